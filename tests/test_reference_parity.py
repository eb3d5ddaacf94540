"""The marts against an independent plain-Python implementation of docs/metrics.md, on a
generated landing zone with dirt (duplicates, invalid lines, late events, an incomplete drop)."""

import pytest

from helpers.pipeline_harness import Pipeline
from helpers.reference_metrics import Reference
from orchestration.lib.sample_data import generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("parity")
    generate(out=tmp / "landing", accounts=60, days=420, seed=11, quiet=True)
    p = Pipeline(tmp, tmp / "landing")
    p.ingest()
    p.build()
    return p, Reference(tmp / "landing")


def test_daily_mrr_matches_to_the_cent(both):
    p, ref = both
    rows = p.query("select account_id, date, cast(mrr as double) from marts.fct_account_daily")
    assert rows
    bad = [(a, d, m, ref.mrr(a, d)) for a, d, m in rows if abs(m - ref.mrr(a, d)) > 0.001]
    assert bad == []
    assert {a for a, _, _ in rows} == set(ref._daily)


def test_movements_match(both):
    p, ref = both
    rows = p.query("select account_id, month, movement_type, cast(movement_mrr as double) from marts.fct_mrr_movements")
    got = {(a, m): (t, x) for a, m, t, x in rows}
    want = ref.movements()
    assert set(got) == set(want)
    bad = {k: (got[k], want[k]) for k in want if got[k][0] != want[k][0] or abs(got[k][1] - want[k][1]) > 0.001}
    assert bad == {}


def test_retention_matches(both):
    p, ref = both
    rows = p.query("""select month, segment, cohort_accounts, retained_accounts, cast(starting_mrr as double),
                             cast(ending_mrr as double), logo_retention, grr, nrr
                      from marts.mart_revenue_retention where cohort_accounts > 0""")
    got = {(r[0], r[1]): r[2:] for r in rows}
    want = ref.retention()
    assert want and set(got) == set(want)
    for k, w in want.items():
        g = got[k]
        assert g[:2] == w[:2], k
        assert g[2:4] == pytest.approx(w[2:4], abs=0.001), k
        assert g[4:] == pytest.approx(w[4:], abs=1e-9), k


def test_renewals_match(both):
    p, ref = both
    rows = p.query("select account_id, due_date, outcome, cast(prior_arr as double), cast(renewed_arr as double) from marts.mart_renewals")
    got = {(a, d): (o, pa, ra) for a, d, o, pa, ra in rows}
    want = ref.renewals()
    assert want and set(got) == set(want)
    for k, (o, pa, ra) in want.items():
        g = got[k]
        assert g[0] == o, k
        assert g[1] == pytest.approx(pa, abs=0.001), k
        assert (g[2] is None and ra is None) or g[2] == pytest.approx(ra, abs=0.001), k
