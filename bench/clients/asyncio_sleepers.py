"""asyncio_sleepers.py -- the same program as sleepers.c: N tasks that each sleep 200 ms, gathered.

Usage: /usr/bin/python3 asyncio_sleepers.py TASKS
Prints "SECONDS FAILURES" on one line.
"""
import asyncio
import sys
import time


async def sleeper():
    await asyncio.sleep(0.2)


async def main(n):
    start = time.monotonic()
    tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    seconds = time.monotonic() - start
    failures = sum(1 for r in results if isinstance(r, BaseException))
    print(f"{seconds:.6f} {failures}")


asyncio.run(main(int(sys.argv[1])))
