"""Python's multiprocessing on the same workloads as bench/suite.ts.

    python3 bench/python/mp_bench.py [repeats] [figure ...]

Prints one line on stdout, RESULT and a JSON object (figures are medians of
`repeats`, 5 by default), which bench/suite.ts reads:

- queue_sum_ms: ezq's sum with a multiprocessing.Queue, 2 worker processes and
  a sentinel per worker, one put per item, 100,000 ints; end to end (start the
  processes, put, sentinels, collect the partial sums, join), as workq's figure.
- pool_map_per_s: Pool(2).map(inc, range(100000)) with default chunking; items/s.
- pool_tasks_per_s: 100,000 tiny tasks (x -> x + 1) submitted one by one with
  Pool(2).apply_async, then every result collected; tasks/s.
The pools are created and warmed (a full-size map) before timing, as the JS
pools are.
Figures named after `repeats` (e.g. pool_map) are the only ones measured.
"""

import json
import multiprocessing as mp
import statistics
import sys
import time

ITEMS = 100_000
WORKERS = 2


def inc(x):
    return x + 1


def summer(in_q, out_q):
    total = 0
    while True:
        item = in_q.get()
        if item is None:
            break
        total += item
    out_q.put(total)


def queue_sum():
    started = time.perf_counter()
    in_q = mp.Queue()
    out_q = mp.Queue()
    procs = [mp.Process(target=summer, args=(in_q, out_q)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    for i in range(ITEMS):
        in_q.put(i)
    for _ in procs:
        in_q.put(None)
    total = sum(out_q.get() for _ in procs)
    for p in procs:
        p.join()
    elapsed = (time.perf_counter() - started) * 1000
    assert total == ITEMS * (ITEMS - 1) // 2, total
    return elapsed


def pool_map(pool):
    started = time.perf_counter()
    out = pool.map(inc, range(ITEMS))
    elapsed = time.perf_counter() - started
    assert out[-1] == ITEMS
    return ITEMS / elapsed


def pool_tasks(pool):
    started = time.perf_counter()
    pending = [pool.apply_async(inc, (i,)) for i in range(ITEMS)]
    out = [p.get() for p in pending]
    elapsed = time.perf_counter() - started
    assert out[-1] == ITEMS
    return ITEMS / elapsed


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    only = set(sys.argv[2:])
    wanted = lambda name: not only or name in only
    result = {
        "python": sys.version.split()[0],
        "start_method": mp.get_start_method(),
        "repeats": repeats,
    }
    if wanted("queue_sum_ms"):
        result["queue_sum_ms"] = statistics.median(
            queue_sum() for _ in range(repeats)
        )
    with mp.Pool(WORKERS) as pool:
        pool.map(inc, range(ITEMS))  # warm, as the JS pools are
        if wanted("pool_map"):
            result["pool_map_per_s"] = statistics.median(
                pool_map(pool) for _ in range(repeats)
            )
        if wanted("pool_tasks"):
            result["pool_tasks_per_s"] = statistics.median(
                pool_tasks(pool) for _ in range(repeats)
            )
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
