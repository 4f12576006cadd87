"""asyncio_wait_loop.py -- the same program as wait_loop.c: `while pending: wait(FIRST_COMPLETED)`.

Usage: /usr/bin/python3 asyncio_wait_loop.py FUTURES
Prints "SECONDS WAITS" on one line.
"""
import asyncio
import sys
import time


async def producer(futures):
    for f in futures:
        f.set_result(None)
        await asyncio.sleep(0)


async def main(n):
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(n)]
    pending = set(futures)
    waits = 0
    start = time.monotonic()
    produce = asyncio.create_task(producer(futures))
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        waits += 1
    seconds = time.monotonic() - start
    await produce
    print(f"{seconds:.6f} {waits}")


asyncio.run(main(int(sys.argv[1])))
