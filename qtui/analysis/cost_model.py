"""What a combination will cost beyond the sizes a sweep measured (issue 25).

A statevector simulator's step costs a constant (the framework's overhead)
plus a term that grows with the state, 2ⁿ times the gates; the diff method
multiplies that term.  So per combination, over the qubits a sweep measured:

* **time per step** = ``overhead + work · growthⁿ``, the growth per qubit
  *fitted* (about 2 for a state that doubles, more when the gates grow with
  the qubits too, less while the overhead hides it), never assumed;
* **peak memory** = ``base + the states the method keeps``: within the
  measured sizes the same form as the time, fitted; beyond them the states
  counted at the largest size and scaled by what the circuit does
  (``memory_band``, ``Circuit``): a complex128 state is 16 · 2ⁿ bytes;
  backprop keeps one per gate and batch row (autograd saves the input state
  of every gate with a trainable parameter), adjoint a few per circuit and a
  bra per observable, parameter-shift about one.  Peak RSS is the
  allocator's figure: freed states of 32 MiB or less stay in glibc's heap,
  so backprop's peak held 2–3.6 times its live states, ×1.6 apart between
  identical sweeps at 18 qubits; the band says so rather than the fit's noise.
  ``qtui.analysis.predictions`` never predicts less than the base plus one state.
* **core-seconds per step**, the same form as the time.

Fit.  For a given growth the model is linear in its two coefficients, fitted
by least squares on *relative* errors (times span orders of magnitude), with
both coefficients kept ≥ 0; the growth is the one with the smallest error
(golden-section search over 2–8; for the time 2–3, ``TIME_GROWTH_MAX``).  Its floor of 2 is the one thing physics
fixes: the state doubles with every qubit, so the work that grows cannot grow
slower.  Without it, a fit on small sizes, where the overhead dominates, found
1.3–1.6 per qubit and predicted lightning.qubit+adjoint at 18 qubits 9× too
fast; with it the time intervals held at 16 and 18 qubits for all four
combinations measured (``benchmarks/prediction.py``).  Pure Python: the UI process reads
this, and numpy would add its import to every start.

Intervals (90 %).  A parametric bootstrap: the points are redrawn around the
fit with the noise measured, refitted, and each refit's prediction gets a
new draw of that noise too; the 5th and 95th percentiles are the interval.
The noise alone says nothing of a model that is wrong beyond the range (a
memory term the base hides at small sizes, a cache knee), so the model is
also checked on itself: refitted without its largest size, how far it
missed that size (log ratio per qubit) is added to the draws' spread in
proportion to how far a prediction lies beyond the measured range.
Beyond the largest size, a time is drawn with at least ``TIME_SPREAD`` of noise
(identical sweeps land that far apart there), and kept between that size's time
and it times ``TIME_GROWTH_MAX`` per qubit, each widened by the noise
(``Model._within_growth``).
The noise is the repeats' spread (pooled relative SD) where points have
repeats, else the fit's residuals (relative RMS over the degrees of freedom
left), and the model says which (``noise_from``).  Fewer than 3 sizes: no
model, and the reason says so; 3 sizes without repeats fit the 3 time
parameters exactly, so the time model has no interval, and says so.

What it ignores: caches (lightning's time grows faster once the state leaves
the cache, so a fit below the knee under-predicts above it), thread scaling,
memory bandwidth, and anything but the qubits (layers and batch size are
held at the sweep's values).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Bytes of one complex128 amplitude: a state of n qubits is 16 · 2ⁿ bytes.
AMPLITUDE_BYTES = 16
#: The interval's coverage, and how many bootstrap refits make it.
COVERAGE = 0.90
_Z90 = 1.6449  # the normal quantile at (1 + COVERAGE) / 2
BOOTSTRAP = 200
MIN_SIZES = 3
_GROWTH_RANGE = (2.0, 8.0)
#: The time's growth per qubit, at most: the state doubles, the gates, observables and
#: circuits per step grow with n (2·(1 + 1/n)³ ≈ 2.45 at 14 qubits), and a cache knee
#: adds to it: 2.8 at most from 16 to 18 qubits in the recorded sweeps.  A time
#: refit at 5 per qubit (allowed up to 8) made intervals a factor 1000 wide at 18.
TIME_GROWTH_MAX = 3.0
#: The least noise (log SD) a time beyond the measured sizes is drawn with: identical
#: sweeps measured the same size 16 or 18 apart by a log SD of 0.08–0.28 (RMS 0.19;
#: default.qubit+adjoint at 16 qubits 4.2–8.0 s, uncontended: the L3 cache is shared),
#: which repeats minutes apart within one sweep do not see.
TIME_SPREAD = 0.2


@dataclass(frozen=True)
class Fit:
    """``a + b · growthⁿ`` fitted on relative errors; ``rel_rms`` its residuals' relative RMS."""

    a: float
    b: float
    growth: float
    rel_rms: float

    def at(self, n: float) -> float:
        return self.a + self.b * self.growth**n


def _linear(xs: Sequence[float], ys: Sequence[float], growth: float) -> tuple[float, float, float]:
    """(a, b, relative SSE) for ``y = a + b·growthˣ``, a, b ≥ 0, weights 1/y²."""
    g = [growth**x for x in xs]
    w = [1.0 / (y * y) for y in ys]
    sw = sum(w)
    swg = sum(wi * gi for wi, gi in zip(w, g, strict=True))
    swgg = sum(wi * gi * gi for wi, gi in zip(w, g, strict=True))
    swy = sum(wi * yi for wi, yi in zip(w, ys, strict=True))
    swgy = sum(wi * gi * yi for wi, gi, yi in zip(w, g, ys, strict=True))
    det = sw * swgg - swg * swg
    a = b = 0.0
    if det > 0:
        a = (swgg * swy - swg * swgy) / det
        b = (sw * swgy - swg * swy) / det
    if a < 0 or b < 0 or det <= 0:  # one coefficient at its bound: the better of the two
        only_b = swgy / swgg if swgg > 0 else 0.0
        only_a = swy / sw if sw > 0 else 0.0
        cands = [(0.0, max(only_b, 0.0)), (max(only_a, 0.0), 0.0)]
        a, b = min(cands, key=lambda ab: _sse(xs, ys, growth, *ab))
    return a, b, _sse(xs, ys, growth, a, b)


def _sse(xs: Sequence[float], ys: Sequence[float], growth: float, a: float, b: float) -> float:
    return sum(((y - a - b * growth**x) / y) ** 2 for x, y in zip(xs, ys, strict=True))


def fit(xs: Sequence[float], ys: Sequence[float], growth: float | None = None,
        ceiling: float = _GROWTH_RANGE[1]) -> Fit:
    """The fit of ``y = a + b·growthˣ``; ``growth`` fixed when given, else searched
    between 2 and ``ceiling``."""
    params = 2 if growth is not None else 3
    if growth is None:
        lo, hi = math.log(_GROWTH_RANGE[0]), math.log(ceiling)
        phi = (math.sqrt(5) - 1) / 2
        c, d = hi - phi * (hi - lo), lo + phi * (hi - lo)
        fc, fd = _linear(xs, ys, math.exp(c))[2], _linear(xs, ys, math.exp(d))[2]
        for _ in range(32):  # the log-growth interval shrinks to ~1e-6
            if fc <= fd:
                hi, d, fd = d, c, fc
                c = hi - phi * (hi - lo)
                fc = _linear(xs, ys, math.exp(c))[2]
            else:
                lo, c, fc = c, d, fd
                d = lo + phi * (hi - lo)
                fd = _linear(xs, ys, math.exp(d))[2]
        growth = math.exp((lo + hi) / 2)
    a, b, sse = _linear(xs, ys, growth)
    dof = max(len(xs) - params, 1)
    return Fit(a, b, growth, math.sqrt(sse / dof))


@dataclass
class Model:
    """One combination's model of one figure along the qubits: the fit, the noise its
    intervals use and where that noise came from, the range it was fitted on.  The
    bootstrap refits are drawn on first use (``predict``), not when it is built: the
    summary is rebuilt after every run and keeps only the fit."""

    figure: str  # "time_per_step", "core_s_per_step" (s) or "peak_rss" (bytes)
    fit: Fit | None
    noise: float | None  # relative SD used for the intervals (None: no interval)
    noise_from: str  # "repeats", "residuals", or why there is no interval
    fitted: tuple[float, float]  # the smallest and largest size measured
    sizes: int
    reason: str = ""  # why there is no model ("" when there is one)
    xs: tuple[float, ...] = ()
    ys: tuple[float, ...] = ()
    growth_fixed: float | None = None
    seed: int = 0
    #: The model's own out-of-sample error: refitted without the largest size, how far
    #: (log ratio) it missed that size, per unit of the axis beyond the rest; it widens
    #: an interval with the distance extrapolated (0 with fewer than 4 sizes).
    drift: float = 0.0
    #: What the memory band knows of the circuit (peak memory only).
    circuit: Circuit | None = None
    ceiling: float = _GROWTH_RANGE[1]  # the fitted growth's upper bound
    _refits: tuple[Fit, ...] | None = None

    def replicates(self) -> tuple[Fit, ...]:
        """The bootstrap refits (none without a fit or a noise to draw)."""
        if self._refits is None:
            self._refits = ()
            if self.fit is not None and self.noise:
                self._refits = _bootstrap(list(self.xs), self.fit, self.noise, self.growth_fixed,
                                          self.seed, self.ceiling)
        return self._refits

    def predict(self, n: float, seed: int = 0) -> tuple[float, float, float] | None:
        """(value, low, high) at ``n``, the interval at ``COVERAGE``; None without a model;
        low = high = value when there is no noise to draw."""
        if self.fit is None:
            return None
        value = self.fit.at(n)
        reps = self.replicates()
        if not reps or not self.noise:
            return value, value, value
        rng = random.Random(seed)
        beyond = max(0.0, n - self.fitted[1])
        time_beyond = beyond > 0 and self.figure != "peak_rss"
        noise = max(self.noise, TIME_SPREAD) if time_beyond else self.noise
        sd = math.hypot(noise, self.drift * beyond)
        draws = sorted(r.at(n) * math.exp(rng.gauss(0.0, sd)) for r in reps)
        low, high = _quantile(draws, (1 - COVERAGE) / 2), _quantile(draws, (1 + COVERAGE) / 2)
        if time_beyond:
            value, low, high = self._within_growth(n, value, low, high, noise)
        return value, low, high

    def _within_growth(self, n: float, value: float, low: float, high: float,
                       noise: float) -> tuple[float, float, float]:
        """A time beyond the largest size measured is not below that size's (the circuit
        only grows) nor above it times ``TIME_GROWTH_MAX`` per qubit, each widened by the
        noise at the interval's coverage: the refits' draws are kept within that."""
        spread = math.exp(_Z90 * noise)
        top = self.ys[-1]
        floor, ceiling = top / spread, top * self.ceiling ** (n - self.fitted[1]) * spread
        low, high = max(low, floor), min(high, ceiling)
        if low > high:  # the draws all fell outside what the growth allows
            low, high = floor, ceiling
        return min(max(value, low), high), low, high


@dataclass(frozen=True)
class Circuit:
    """What the memory band knows of a line's circuits (``SweepPoint`` fields).

    ``diff_method`` as resolved.  ``batch`` and ``layers`` only where the workload says
    what its circuit is: the built-in forum workload (``qtui.engine.forum``) runs, per
    batch row, H and RZ(input) on each of n qubits, then per layer n − 1 CNOTs and n
    RY(weight), and measures n expectation values.  Its inputs come from a trainable
    net, so every RZ and every RY has a parameter autograd needs a gradient for."""

    diff_method: str = ""
    batch: int | None = None
    layers: int | None = None

    @property
    def known(self) -> bool:
        return self.batch is not None and self.layers is not None

    def gates(self, n: float) -> float:
        """Gates per circuit: 2n + layers · (2n − 1) (n when the workload does not say)."""
        return 2 * n + self.layers * (2 * n - 1) if self.layers is not None else n

    def trainable(self, n: float) -> float:
        """Gates whose parameter needs a gradient: n encodings and n per layer."""
        return n * (1 + (self.layers or 0))

    def resident(self, n: float) -> float:
        """Bytes of states the method must hold at ``n`` on top of the base, at least.

        backprop: autograd keeps the input state of every gate with a trainable
        parameter, per batch row (``benchmarks/prediction_memory.py`` counts
        autograd's saved tensors: 2n + 0.7 states a row at 1 layer, 3n + 0.7 at 2).
        adjoint: the state, one bra per observable and the state the derivative
        acts on (``adjoint_jacobian``).  Anything else: the state itself."""
        state = AMPLITUDE_BYTES * 2.0**n
        if self.diff_method == "backprop" and self.known:
            return (self.batch or 1) * self.trainable(n) * state
        if self.diff_method == "adjoint":
            return (n + 2 if self.known else 2) * state
        return state

    def shape(self, n: float, top: float) -> tuple[float, float]:
        """How many more states than at ``top`` the method keeps at ``n``, (least, most).

        backprop keeps a state per gate and batch row: the gates' ratio (the qubits'
        when the workload does not say).  Any other method keeps a few states per
        circuit, or one per observable or parameter: between as many and n / top."""
        if self.diff_method == "backprop":
            ratio = self.gates(n) / self.gates(top)
            return ratio, ratio
        return 1.0, n / top


#: The band's margin on the states kept, scaled from the largest size measured: the
#: largest ratio, over the recorded sweeps (tests/data/prediction_peaks.json), of the
#: copies measured at 16 or 18 qubits to the copies at 14 scaled by ``Circuit.shape``
#: was 1.20 (backprop, sweep 2 at 18: glibc kept more of the freed states); 1.35 leaves
#: room for the spread between identical sweeps at the top size itself (1.12 at 14).
SPREAD = 1.35
#: Peak RSS over the live states, at most: freed states of 32 MiB or less stay in
#: glibc's heap (its mmap threshold rises to what was freed), so backprop's peak RSS
#: held 2–3.6 times the live states in the recorded sweeps, and up to 4.1 times in
#: ``benchmarks/prediction_memory.py`` (the live peak, with MALLOC_MMAP_THRESHOLD_
#: fixed, is 0.63–0.83 states a batch row and gate at 14–16 qubits).
RETAIN = 5.0
#: Peak RSS varies this much between identical runs at the smallest sizes (bytes).
RSS_NOISE = 2.0**20
#: The term (peak − base) is the states' when it grew at least this much per qubit
#: between the two largest sizes (a state doubles; backprop grew 1.66–2.28 from 12 to 14
#: qubits in the recorded sweeps, parameter-shift 1.18: its term is tapes, not states).
STATE_GROWTH = 1.4


def memory_band(m: Model, n: float) -> tuple[float, float, float] | None:
    """(value, low, high) of the peak memory at ``n`` beyond the measured sizes, from the
    states the method keeps rather than the fit's noise (None within the measured sizes).

    Peak RSS = base + the states the method keeps (+ what glibc kept of freed ones).
    From the largest size measured, its term (peak − base) counts the states held there;
    scaled to ``n`` (2ⁿ, and ``Circuit.shape``) it gives the value, and ``SPREAD`` either
    way the band.  The low end is never below what must be resident
    (``Circuit.resident``) nor below the largest peak measured (the circuit only grows);
    backprop's is only that (and the states over ``RETAIN``): what glibc keeps of the
    freed states varied ×1.6 between identical sweeps at 18 qubits.  A term that is not
    yet the states' (grew slower than ``STATE_GROWTH`` per qubit: parameter-shift's
    tapes) is not scaled for the low end or the value: the value is the largest peak
    plus the states ``n`` adds."""
    if m.fit is None or not m.xs or n <= m.fitted[1]:
        return None
    c = m.circuit or Circuit()
    base = min(m.fit.a, m.ys[0])
    noise = max(2.0 * m.fit.rel_rms * max(m.ys), RSS_NOISE)
    top, last = m.xs[-1], m.ys[-1]
    term = max(last - base, 0.0)
    k = 2.0 ** (n - top)
    least, most = c.shape(n, top)
    high = base + max(term, noise) * k * most * SPREAD + noise
    floor = max(c.resident(n), term)
    states = _states_term(m, base, noise)
    if states:
        keep = RETAIN if c.diff_method == "backprop" else SPREAD
        floor = max(floor, term * k * least / keep)
        value = base + term * k * math.sqrt(least * most)
    else:
        value = last + c.resident(n) - c.resident(top)
    low = min(base + floor - noise, high)
    return min(max(value, low), high), low, high


def _states_term(m: Model, base: float, noise: float) -> bool:
    """Whether the term at the two largest sizes is the states' (see ``STATE_GROWTH``)."""
    if len(m.xs) < 2:
        return False
    term, prev = m.ys[-1] - base, m.ys[-2] - base
    if term <= 3 * noise or prev <= 0:
        return False
    return (term / prev) ** (1.0 / (m.xs[-1] - m.xs[-2])) >= STATE_GROWTH


def _quantile(sorted_values: list[float], q: float) -> float:
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _repeat_noise(groups: Sequence[Sequence[float]]) -> float | None:
    """The pooled relative SD of the repeats (log scale), None without any repeats."""
    ss, dof = 0.0, 0
    for values in groups:
        logs = [math.log(v) for v in values if v > 0]
        if len(logs) >= 2:
            m = sum(logs) / len(logs)
            ss += sum((x - m) ** 2 for x in logs)
            dof += len(logs) - 1
    return math.sqrt(ss / dof) if dof else None


def build(
    figure: str,
    xs: Sequence[float],
    ys: Sequence[float],
    repeats: Sequence[Sequence[float]] = (),
    growth: float | None = None,
    seed: int = 0,
    circuit: Circuit | None = None,
) -> Model:
    """A model of ``figure`` from the sizes ``xs`` and their values ``ys`` (means),
    ``repeats`` the per-size repeat values; ``growth`` fixed (memory: 2) or fitted."""
    pairs = sorted((float(x), float(y)) for x, y in zip(xs, ys, strict=True) if y and y > 0)
    sizes = len({x for x, _ in pairs})
    span = (pairs[0][0], pairs[-1][0]) if pairs else (0.0, 0.0)
    if sizes < MIN_SIZES:
        return Model(figure, None, None, "", span, sizes,
                     reason=f"{sizes} size(s) measured: a model needs {MIN_SIZES} or more")
    px, py = [x for x, _ in pairs], [y for _, y in pairs]
    ceiling = _GROWTH_RANGE[1] if figure == "peak_rss" else TIME_GROWTH_MAX
    f = fit(px, py, growth, ceiling)
    params = 2 if growth is not None else 3
    noise = _repeat_noise(repeats)
    noise_from = "repeats"
    if noise is None:
        if len(px) > params:
            noise, noise_from = f.rel_rms, "residuals"
        else:
            noise_from = f"no interval: {len(px)} sizes fit the {params} parameters exactly"
    return Model(figure, f, noise, noise_from, span, sizes, xs=tuple(px), ys=tuple(py),
                 growth_fixed=growth, seed=seed, drift=_drift(px, py, growth, ceiling),
                 circuit=circuit, ceiling=ceiling)


def _drift(xs: list[float], ys: list[float], growth: float | None, ceiling: float) -> float:
    """Hold the largest size out, refit, predict it: the log-ratio missed, per unit of
    the axis between it and the next largest (0 with fewer than 4 sizes)."""
    if len({*xs}) < MIN_SIZES + 1:
        return 0.0
    last = max(xs)
    rest = [(x, y) for x, y in zip(xs, ys, strict=True) if x < last]
    held = [y for x, y in zip(xs, ys, strict=True) if x == last]
    f = fit([x for x, _ in rest], [y for _, y in rest], growth, ceiling)
    step = last - max(x for x, _ in rest)
    guess = f.at(last)
    if guess <= 0 or step <= 0:
        return 0.0
    return abs(math.log(sum(held) / len(held) / guess)) / step


def _bootstrap(xs: list[float], f: Fit, noise: float, growth: float | None, seed: int,
               ceiling: float) -> tuple[Fit, ...]:
    rng = random.Random(seed)
    out = []
    for _ in range(BOOTSTRAP):
        ys = [f.at(x) * math.exp(rng.gauss(0.0, noise)) for x in xs]
        out.append(fit(xs, ys, growth, ceiling))
    return tuple(out)


def crossing(
    first: Model, second: Model, lo: float, hi: float, step: float = 0.05
) -> tuple[float, float, float] | None:
    """Where ``first`` becomes cheaper than ``second`` going up in n, between ``lo`` and ``hi``:
    (the fits' crossing, and its interval from the paired replicates), None when the
    fits do not cross there."""
    if first.fit is None or second.fit is None:
        return None
    at = _cross(first.fit.at, second.fit.at, lo, hi, step)
    if at is None:
        return None
    ra, rb = first.replicates(), second.replicates()
    found = sorted(
        c for c in (_cross(a.at, b.at, lo, hi, step) for a, b in zip(ra, rb, strict=False)) if c is not None
    )
    if len(found) < max(2, len(ra) // 2):  # most replicates must cross for an interval
        return at, at, at
    return at, _quantile(found, (1 - COVERAGE) / 2), _quantile(found, (1 + COVERAGE) / 2)


def _cross(fa: Callable[[float], float], fb: Callable[[float], float], lo: float, hi: float,
           step: float) -> float | None:
    """The first n in [lo, hi] where ``fa`` goes from above ``fb`` to below it."""
    n = lo
    prev = fa(n) - fb(n)
    while n < hi:
        nxt = min(n + step, hi)
        cur = fa(nxt) - fb(nxt)
        if prev > 0 >= cur:
            return n + (nxt - n) * prev / (prev - cur) if prev != cur else nxt
        n, prev = nxt, cur
    return None


def faster_probability(first: Model, second: Model, n: float) -> float | None:
    """How often ``first``'s replicates predict less than ``second``'s at ``n`` (paired)."""
    ra, rb = first.replicates(), second.replicates()
    if not ra or not rb:
        return None
    wins = sum(1 for a, b in zip(ra, rb, strict=False) if a.at(n) < b.at(n))
    return wins / min(len(ra), len(rb))
