import time

print("hanging", flush=True)
time.sleep(120)
