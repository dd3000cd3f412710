"""``optviz compare``: tune every optimizer on the same budget per function, then compare them
on held-out starts (performance profiles and a ranked table).

A comparison is many scenes (one per function, each tuned), so it takes no scene options:
its functions, optimizers and ``--set`` values are read as the scene commands read them; its
schedule, hooks, noise and delay go to the engine as they are (it reads them).
"""

from __future__ import annotations

import argparse

import functions
from optviz.cli.errors import CliError
from optviz.cli.exploring import check_out, explore, finish
from optviz.cli.output import fmt, span, table
from optviz.cli.scene_args import apply_sets, load_rules, make_function, optimizer_list, rule_texts
from optviz.optimizers.rates import DEFAULT as DEFAULT_RATES
from optviz.optimizers.rates import check_rates


def main(args: argparse.Namespace) -> int:
    from optviz.explore.compare import DEFAULT_FUNCTIONS, DEFAULT_OPTIMIZERS, compare

    out = check_out(args)
    names = [t.strip() for t in (args.functions or ",".join(DEFAULT_FUNCTIONS)).split(",") if t.strip()]
    if not names:
        raise CliError(f"choose at least one function; valid: {', '.join(functions.families())}")
    fns = [make_function(n) for n in names]
    load_rules(args)  # --rules, --rule-text: raced beside -o
    chosen: dict[str, dict[str, float]] = {
        n: {} for n in (*optimizer_list(args.optimizers or ",".join(DEFAULT_OPTIMIZERS)), *rule_texts(args))}
    apply_sets(chosen, args.sets)  # held fixed; everything else is tuned or the registry's
    rates = check_rates(args.rates or DEFAULT_RATES)
    opts = {"schedule": args.schedule, "hooks": list(args.hooks), "backend": args.backend}  # engine-read
    opts.update({k: v for k in ("noise", "noise_mode", "delay", "batch")
                 if (v := getattr(args, k)) is not None})
    c = explore(lambda progress: compare(
        fns, chosen, budget=args.budget, steps=args.steps, tol=args.tol or 1e-3, kind=args.kind,
        seeds=args.seeds, tune_starts=args.tune_starts, test_starts=args.test_starts, seed=args.seed,
        rates=rates, scheduler=args.scheduler, progress=progress, max_seconds=args.max_seconds, **opts),
        args, "comparing")

    def text() -> None:
        print(f"{len(c.labels)} function(s) x {len(c.names)} optimizer(s): tuned on a budget of {c.budget} "
              f"configurations each ({c.n_seeds} seed(s) x {c.tune_starts} starts), compared on "
              f"{len(c.problems)} held-out problems; {c.steps} steps, tol {c.tol:g}, seed {c.seed}; "
              f"rates: {rates}" + (f"; minibatches of {args.batch}" if args.batch is not None else ""))
        for lab in c.labels:
            if c.target_text(lab):
                print(c.target_text(lab))
        print(c.headline())
        rows = c.table()
        shared = {r["rank"] for r in rows if sum(x["rank"] == r["rank"] for x in rows) > 1}
        rows = [[f"{r['rank']}{'=' if r['rank'] in shared else ''}", r["optimizer"], fmt(r["solved"], "pct"),
                 span(r["solved_interval"], "pct"), fmt(r["wins"], "pct"),
                 fmt(None if r["median_steps_to_tol"] is None else int(r["median_steps_to_tol"]), "int"),
                 span(r["median_steps_interval"], "int"), fmt(r["median_final_error"]),
                 fmt(r["diverged"], "pct")] for r in rows]
        table(["rank", "optimizer", "solved", "90% interval", "fastest", "median steps", "90% interval",
               "median error", "diverged"], rows)
        print("90% intervals: bootstrap over the held-out seeds and starts; a shared rank (1=): the "
              "intervals overlap")
        print("\nheld-out share solved (median steps to tol, or to a network's target; a classifier's median "
              "test accuracy at the end), with the tuned hyperparameters:")
        rows = []
        for lab in c.labels:
            cells = []
            for n in c.ranking:
                st = c.held_out[lab][n]
                steps = None if st.median_steps is None else int(st.median_steps)
                acc = c.median_accuracy(lab, n)
                cells.append(f"{fmt(st.share_converged, 'pct')} ({fmt(steps, 'int')})"
                             + ("" if acc is None else f", test acc {fmt(acc, 'pct')}"))
            rows.append([lab, *cells])
        table(["function", *c.ranking], rows, left=(0,))
        for lab in c.labels:
            tuned = "; ".join(f"{n} " + ", ".join(f"{k}={v:.4g}" for k, v in c.tuned[lab][n].items()
                                                   if k in {d.name for d in c.space[n]}) for n in c.names)
            print(f"  {lab}: {tuned}")

    from optviz.explore import figures

    return finish(args, out, lambda: {**c.to_json(), "rates": rates}, lambda: figures.compare_figure(c), text)
