"""The statistics page shows the same crosstab as audit.statistics, with chi-square from scipy."""
from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest
import scipy.stats
from sqlmodel import Session

from audit.instrument import load_instrument
from audit.models import Audit, Case, Person
from audit.review.answers import set_answer


COUNTS = {("1", "ja"): 4, ("1", "nej"): 6, ("2", "ja"): 7, ("2", "nej"): 3}


def _twenty_cases(engine, counts=COUNTS) -> None:  # type: ignore[no-untyped-def]
    inst = load_instrument("questionnaires/kontanthjaelp_2022.yaml")
    with Session(engine) as s:
        audit = Audit(name="S", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                      reference_date=date(2020, 3, 1), instrument_version=inst.version,
                      instrument_json=json.dumps(inst.to_dict()))
        s.add(audit)
        s.flush()
        i = 0
        for (breadth, stable), n in counts.items():
            for _ in range(n):
                i += 1
                p = Person(audit_id=audit.id, person_id=f"p{i}", municipality="Odense", seniority_years=6,
                           seniority_band="5-7", sex="mand", age=45, origin="dansk")
                s.add(p)
                s.flush()
                c = Case(audit_id=audit.id, person_pk=p.id, municipality="Odense", seniority_band="5-7",
                         stratum_population=100, stratum_sample=20, inclusion_probability=0.2, weight=5)
                s.add(c)
                s.flush()
                set_answer(s, case=c, item="has_challenges", value="ja", user=None)
                set_answer(s, case=c, item="challenges",
                           value=["fysiske"] if breadth == "1" else ["fysiske", "psykiske"], user=None)
                set_answer(s, case=c, item="stable_participation", value=stable, user=None)
                c.status = "completed"
                s.add(c)
        s.commit()


def test_stats_page_crosstab_matches_scipy(engine, make_user, client_for, tmp_path):
    counts = COUNTS
    _twenty_cases(engine)
    client, _ = client_for(make_user("bo", "auditor"))
    page = client.get("/stats?row=challenge_breadth&col=stable_participation")
    assert page.status_code == 200, page.text
    chi2, p, dof, _ = scipy.stats.chi2_contingency([[4, 6], [7, 3]], correction=False)
    assert f"Chi² = {chi2:.3f}, df = {dof}" in page.text
    assert re.search(r"<th scope=\"row\" class=\"rowhead\">1 type of challenge</th><td class=\"num\">40%</td><td class=\"num\">60%</td><td class=\"num\">10</td>",
                     page.text)
    assert "<svg" in page.text and "70%" in page.text
    # expected counts of 4.5 (10 x 9 / 20) are flagged where the test is shown
    # (in the page's language: the statistics room's notes are translated like the page)
    assert "2 of 4 cells have an expected count below 5 (smallest 4.5); the test&#39;s p-value is" in page.text
    assert "celler" not in page.text
    # design-weighted: the Rao-Scott F of R's svychisq on the same 20 cases, not Pearson
    from tests.statistics.rsurvey import run_r

    data = pd.DataFrame([{"stratum": "Odense|5-7", "stratum_population": 100, "b": b, "s": st}
                         for (b, st), n in counts.items() for _ in range(n)])
    r = run_r('d <- read("d.csv")\ndes <- svydesign(ids = ~1, strata = ~stratum, fpc = ~stratum_population, data = d)\n'
              'x <- svychisq(~b + s, des); out("F", x$statistic); out("ndf", x$parameter[1]); '
              'out("ddf", x$parameter[2]); out("p", x$p.value)\n', tmp_path, d=data)
    weighted = client.get("/stats?row=challenge_breadth&col=stable_participation&weighted=true")
    assert weighted.status_code == 200
    assert (f"Rao-Scott F = {r['F'][0]:.3f}, df = {r['ndf'][0]:.2f} and {r['ddf'][0]:.1f}, "
            f"p = {r['p'][0]:.4f}") in weighted.text
    assert "Chi² = " not in weighted.text.split("Rao-Scott")[0]
    muni, _ = client_for(make_user("odense", "municipality", "Odense"))
    assert muni.get("/stats").status_code == 403


@pytest.mark.danish
def test_stats_page_notes_in_danish(engine, make_user, client_for):
    _twenty_cases(engine)
    client, _ = client_for(make_user("bo", "auditor"))
    page = client.get("/stats?row=challenge_breadth&col=stable_participation")
    assert page.status_code == 200
    assert "2 af 4 celler har en forventet værdi under 5 (mindste 4.5); testens p-værdi er derfor usikker." in page.text
    assert "expected count" not in page.text
    weighted = client.get("/stats?row=challenge_breadth&col=stable_participation&weighted=true")
    assert "Vægtede andele: hver sag vægtes med N_h/n_h i sit stratum" in weighted.text
    assert "Weighted shares" not in weighted.text
