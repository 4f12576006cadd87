"""aiohttp_get.py -- the same program as tasks_get.c, in Python: a task per GET, gathered.

Usage: /usr/bin/python3 aiohttp_get.py URL REQUESTS LIMIT
Prints "SECONDS FAILURES" on one line.
"""
import asyncio
import sys
import time

import aiohttp


async def fetch(session, url):
    async with session.get(url) as response:
        await response.read()


async def main(url, requests, limit):
    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.monotonic()
        results = await asyncio.gather(*(fetch(session, url) for _ in range(requests)),
                                       return_exceptions=True)
        seconds = time.monotonic() - start
    failures = sum(1 for r in results if isinstance(r, BaseException))
    print(f"{seconds:.6f} {failures}")


asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
