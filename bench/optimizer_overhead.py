"""Benchmark: the optimizer's own cost per trial, with an evaluate callback that returns at once.

Reproduce: `.venv/bin/python bench/optimizer_overhead.py` from the repository root
(`--trials N`, default 100; `--quick` for 30). For each storage (a SQLite file; a throwaway
PostgreSQL server when its binaries are installed), sampler (random, tpe) and concurrency
(1, 4), it runs a fresh study twice, with 1 trial and with N trials, and prints:
- open: the 1-trial run's wall time (storage, schema, study, ledger, heartbeat, one trial);
- per trial: (wall(N) - wall(1)) / (N - 1), the overhead each further trial adds (claim,
  optuna trial, tell, settle; tpe's sampling grows with the study);
- the ratio to a 1 s trial (what a real trial over a dev set costs at the very least);
- for reference, plain optuna on the same kind of storage (`study.ask` + `study.tell` in a
  loop, the same sampler, no ledger, no spend cap, no leases, optuna's default SQLite setup).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.postgres import PostgresServer, find_bindir  # noqa: E402

from dspx_lang.optimize import Objective, Optimizer, TrialInfo, TrialOutcome  # noqa: E402
from dspx_lang.optimize.model import SamplerName  # noqa: E402
from dspx_lang.space.solve import Choice, ConfigValue, IntRange, Space, Sym, Var  # noqa: E402

SPACE = Space(
    [
        Var("a", IntRange(0, 999), 0),
        Var("b", Choice((Sym("x"), Sym("y"), Sym("z"))), Sym("x")),
        Var("c", IntRange(0, 9), 0),
    ],
    [],
)
OBJECTIVES = (Objective("quality", "maximize", 0.8), Objective("cost", "minimize", 0.2))


async def evaluate(config: Mapping[str, ConfigValue], info: TrialInfo) -> TrialOutcome:
    a, c = config["a"], config["c"]
    assert isinstance(a, int)
    assert isinstance(c, int)
    return TrialOutcome(values={"quality": a / 1000}, cost=0.001 * c)


def wall(url: str, sampler: SamplerName, trials: int, concurrency: int) -> float:
    optimizer = Optimizer(
        SPACE,
        objectives=OBJECTIVES,
        evaluate=evaluate,
        forecast=lambda config: 0.0,
        storage=url,
        study="bench",
        sampler=sampler,
        trials=trials,
        concurrency=concurrency,
        live=False,
    )
    started = time.perf_counter()
    result = asyncio.run(optimizer.run())
    elapsed = time.perf_counter() - started
    assert result.counts["ok"] == trials, result.counts
    return elapsed


def plain_optuna(url: str, sampler: SamplerName, trials: int) -> float:
    """ms per trial of a bare optuna ask/tell loop over the same distributions."""
    import optuna

    from dspx_lang.optimize.codec import distributions
    from dspx_lang.optimize.samplers import optuna_sampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=url,
        directions=["maximize", "minimize"],
        sampler=optuna_sampler(sampler, seed=0, trials=trials),
    )
    dists = distributions(SPACE.vars)
    started = time.perf_counter()
    for _ in range(trials):
        trial = study.ask(dists)
        study.tell(trial, [trial.params["a"] / 1000, trial.params["c"] * 0.001])
    return (time.perf_counter() - started) / trials * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    trials = 30 if args.quick else args.trials
    tmp = Path(tempfile.mkdtemp(prefix="dspx-bench-opt-"))
    counter = iter(range(10**6))
    server = None
    urls: dict[str, Callable[[], str]] = {
        "sqlite": lambda: f"sqlite:///{tmp / f'study{next(counter)}.db'}"
    }
    bindir = find_bindir()
    if bindir is not None:
        server = PostgresServer(bindir).start()
        urls["postgres"] = server.database
    else:
        print("PostgreSQL not installed: SQLite only (apt-get install -y postgresql)")
    wall(urls["sqlite"](), "random", 1, 1)  # imports and first-use costs, not measured
    print(f"{trials} trials, evaluate returns at once; per trial = (wall(N) - wall(1)) / (N - 1)")
    print(
        f"{'storage':9} {'sampler':8} {'conc':>4} {'open s':>7} {'per trial ms':>13} {'of 1 s':>7}"
    )
    try:
        for storage, make_url in urls.items():
            samplers: tuple[SamplerName, ...] = ("random", "tpe")
            for sampler in samplers:
                for concurrency in (1, 4):
                    one = wall(make_url(), sampler, 1, concurrency)
                    many = wall(make_url(), sampler, trials, concurrency)
                    per = (many - one) / (trials - 1)
                    print(
                        f"{storage:9} {sampler:8} {concurrency:>4} {one:7.2f} "
                        f"{per * 1000:13.1f} {per:7.1%}"
                    )
                plain = plain_optuna(make_url(), sampler, trials)
                print(f"{storage:9} {sampler:8} {'':>4} {'':>7} {plain:13.1f}   plain optuna")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
