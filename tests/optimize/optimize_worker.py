"""A worker process for the optimizer tests: runs the synthetic task of `optimize_kit`
against a study, logging every evaluation event to `--log` (see `optimize_kit.Task`).

    python optimize_worker.py --storage URL --study NAME --log FILE [--sampler S]
        [--trials N] [--max-spend X] [--concurrency C] [--delay S] [--forecast X]
        [--call-bound X] [--seed N] [--heartbeat S] [--grace S]

Prints the result as one JSON line on stdout when the run ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from optimize_kit import BUDGETS, OBJECTIVES, Task, space

from dspx_lang.optimize import Lease, Optimizer


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--storage", required=True)
    p.add_argument("--study", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--sampler", default="random")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--max-spend", type=float, default=None)
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--delay", type=float, default=0.01)
    p.add_argument("--forecast", type=float, default=None)
    p.add_argument("--call-bound", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--heartbeat", type=float, default=0.5)
    p.add_argument("--grace", type=float, default=5.0)
    args = p.parse_args()
    task = Task(delay_s=args.delay, log_path=args.log, call_bound=args.call_bound)
    forecast = args.forecast if args.forecast is not None else task.trial_cost
    optimizer = Optimizer(
        space(),
        objectives=OBJECTIVES,
        budgets=BUDGETS,
        evaluate=task.evaluate,
        forecast=lambda config: forecast,
        storage=args.storage,
        study=args.study,
        sampler=args.sampler,
        trials=args.trials,
        seed=args.seed,
        concurrency=args.concurrency,
        max_spend=args.max_spend,
        lease=Lease(heartbeat_s=args.heartbeat, grace_s=args.grace),
        live=False,
    )
    result = asyncio.run(optimizer.run())
    print(
        json.dumps(
            {
                "stop_reason": result.stop_reason,
                "spent": result.spent,
                "counts": result.counts,
                "best": result.best.key if result.best else None,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
