"""Fair comparison: every optimizer tuned on the same budget, compared on held-out starts.

"Tuned fairly, which optimizer solves most of these functions fastest?": each chosen optimizer
is tuned per function (its learning rates and momenta/βs, the same number of configurations for
each) on one set of random starts and seeds, then runs held-out starts. The page says how sure
it is: a headline that names a winner only when the bootstrap intervals over seeds and starts
separate it ("No clear winner" otherwise), the ranked table with 90 % intervals and shared ranks,
Dolan & Moré's performance profiles beside Moré & Wild's data profiles (an optimizer dropped from
them recomputes the others' from the stored costs), each function's results and the tuned values.

Learning problems take part beside the test functions (with a minibatch size if wanted): a network
without a known minimum is solved when its training loss reaches the target the tuned optimizers set
on the tuning starts, and the page states that target.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import functions
from functions.problems import PROBLEMS
from optviz.dashboard import messages
from optviz.dashboard.state import ss
from optviz.dashboard.views import Context, View, current_or_message, exploring
from optviz.explore import compare as protocol
from optviz.explore.charts import data_profile_chart, profile_chart
from optviz.optimizers import NAMES

#: Functions offered: those with listed minimizers, in 2-D; then the learning problems.
OFFERED = tuple(
    n for n, f in functions.families().items() if f.supports(2) and len(functions.get(n, 2).minimizers)
)
OFFERED_ALL = OFFERED + PROBLEMS


def ranked(c) -> pd.DataFrame:
    """The table: ranks shared where the intervals overlap ("1=" ), shares and steps with their
    90 % intervals."""
    table = c.table()
    count = {r["rank"]: sum(x["rank"] == r["rank"] for x in table) for r in table}
    rows = [
        {
            "rank": f"{r['rank']}{'=' if count[r['rank']] > 1 else ''}",
            "optimizer": r["optimizer"],
            "solved (90 % interval)": f"{exploring.pct(r['solved'])} "
            f"({exploring.span(*r['solved_interval'])})",
            "fastest": exploring.pct(r["wins"]),
            "median steps (90 % interval)": exploring.steps_span(r["median_steps_to_tol"],
                                                                r["median_steps_interval"]),
            "median error": exploring.num(r["median_final_error"]),
            "diverged": exploring.pct(r["diverged"]),
        }
        for r in table
    ]
    return pd.DataFrame(rows).set_index("rank")


def per_function(c) -> pd.DataFrame:
    rows = []
    for lab in c.labels:
        row = {"function": lab}
        for n in c.ranking:
            st_ = c.held_out[lab][n]
            steps = "" if st_.median_steps is None else f" · {int(st_.median_steps)} steps"
            acc = c.median_accuracy(lab, n)
            acc_text = "" if acc is None else f" · test accuracy {exploring.pct(acc)}"
            row[n] = f"{exploring.pct(st_.share_converged)}{steps}{acc_text}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("function")


def tuned(c) -> pd.DataFrame:
    rows = []
    for lab in c.labels:
        for n in c.names:
            dims = {d.name for d in c.space[n]}
            rows.append(
                {
                    "function": lab,
                    "optimizer": n,
                    **{k: f"{v:.4g}" for k, v in c.tuned[lab][n].items() if k in dims},
                }
            )
    return pd.DataFrame(rows).set_index(["function", "optimizer"]).fillna("")


@st.fragment
def _view() -> None:
    ctx = current_or_message()
    if ctx is None:
        return
    scene = ctx.scene
    on_problem = getattr(ctx.function, "name", None) in PROBLEMS  # a learning problem's race: start on it
    exploring.keep("cmp_functions", list(OFFERED_ALL),
                   [ctx.function.name] if on_problem else list(protocol.DEFAULT_FUNCTIONS))
    if "cmp_batch" not in ss:  # a learning problem's race with minibatches: compare with them too
        ss["cmp_batch"] = int(scene.batch or 0) if on_problem else 0
    exploring.keep(
        "cmp_optimizers", list(NAMES), list(scene.optimizers)[:6] or list(protocol.DEFAULT_OPTIMIZERS)
    )
    with st.form("cmp_form", border=False):
        c1, c2 = st.columns(2)
        fns = c1.multiselect(
            "Functions",
            OFFERED_ALL,
            key="cmp_functions",
            help="Test functions with a known minimum, and learning problems (least squares, logistic "
            "regression, the networks on two moons and two spirals).",
        )
        names = c2.multiselect("Optimizers", NAMES, key="cmp_optimizers")
        c1, c2, c3, c4, c5 = st.columns(5)
        budget = c1.slider(
            "Budget (configurations)",
            2,
            60,
            12,
            key="cmp_budget",
            help="How many configurations each optimizer tries on each function: the same for all.",
        )
        steps = c2.select_slider("Steps", (100, 200, 300, 500, 1000), 300, key="cmp_steps")
        seeds = c3.slider("Seeds", 1, 4, 2, key="cmp_seeds", help="Each seed draws its own starts and noise.")
        tune_n = c4.slider("Tuning starts per seed", 2, 32, 6, key="cmp_tune")
        test_n = c5.slider("Held-out starts per seed", 4, 64, 12, key="cmp_test")
        c1, c2, c3 = st.columns([1, 1, 3])
        noise = c1.number_input("Gradient noise σ", 0.0, 100.0, 0.0, key="cmp_noise", format="%g")
        batch = c2.number_input(
            "Minibatch size",
            0,
            100_000,
            key="cmp_batch",
            help="Learning problems only: each step's gradient on this many training samples, the same "
            "for every optimizer (0: the full batch).",
        )
        c3.form_submit_button("Compare", icon=":material/balance:", type="primary")
    if not fns or not names:
        st.info("Choose at least one function and one optimizer, then press Compare.")
        return
    order = tuple(n for n in NAMES if n in names)
    try:
        c = exploring.compare_of(
            tuple(f for f in OFFERED_ALL if f in fns),
            order,
            int(budget),
            int(steps),
            float(ctx.tol),
            int(seeds),
            int(tune_n),
            int(test_n),
            int(scene.seed),
            float(noise),
            ctx.backend,
            int(batch) or None,
        )
    except exploring.ENGINE_ERRORS as exc:
        st.error(f"Cannot compare: {messages.short(exc)}")
        return
    st.markdown(
        f"#### Tuned fairly on {len(c.problems)} held-out problems ({len(c.labels)} functions): "
        f"{c.headline()}"
    )
    for lab in c.labels:
        if c.target_text(lab):
            st.caption(c.target_text(lab) + ".")
    st.dataframe(ranked(c), key="cmp_table")
    st.caption(
        "solved: held-out starts that converge within the tolerance (staying within it to the end; a "
        "network: whose training loss reaches its target); "
        "fastest: problems where it needs the fewest steps (ties count for all); median steps to the "
        "tolerance over the solved ones. 90 % intervals: bootstrap over the held-out seeds and starts "
        f"(seeded by {c.seed}); optimizers whose intervals overlap share a rank (1=)."
    )
    exploring.keep("cmp_shown", list(c.names), list(c.names))
    shown = st.multiselect(
        "Optimizers in the profiles",
        list(c.names),
        key="cmp_shown",
        help="Drop one to see the profiles without it: the others' ratios are recomputed against the best "
        "of those left, from the stored results (nothing reruns).",
    )
    if shown:
        left, right = st.columns(2)
        with left:
            exploring.chart(profile_chart(c, large=ctx.large, names=shown), "cmp_profile")
        with right:
            exploring.chart(data_profile_chart(c, large=ctx.large, names=shown), "cmp_data_profile")
        st.caption(
            "Performance profile (Dolan & Moré 2002): its height at τ is the share of problems solved within "
            "τ times the fewest steps any optimizer shown needed (at τ → ∞: the share solved). Data profile "
            "(Moré & Wild 2009): the share solved within a budget of κ·(n + 1) gradient evaluations, n the "
            "function's dimension."
        )
    else:
        st.info("Choose at least one optimizer for the profiles.")
    st.markdown(
        "**Per function** (held-out share converged · median steps to the tolerance · for a classifier, "
        "the median test accuracy where the runs end)"
    )
    st.dataframe(per_function(c), key="cmp_per_function")
    with st.expander("The tuned hyperparameters"):
        st.dataframe(tuned(c), key="cmp_tuned")
    with st.expander("The protocol"):
        st.markdown(protocol.PROTOCOL)
    st.caption(f"Seed {c.seed}: the same seed gives the same comparison. Computed in {c.elapsed:.1f} s.")
    exploring.download(c.to_json(), "comparison.json", "cmp_download")


def render(ctx: Context) -> None:
    _view()


VIEW = View(
    key="compare",
    title="Fair comparison",
    order=50,
    render=render,
    help="Every optimizer tuned on the same budget, compared on held-out starts",
)
