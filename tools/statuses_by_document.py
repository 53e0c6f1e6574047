"""Benefits by status per document for the demo profiles in tools/demo_profiles.yaml, through the
self-check (nothing stored). Runs against any commit whose self-check has `evaluate_answers`:

    PORTAL_DEV=1 .venv/bin/python manage.py shell -c "exec(open('tools/statuses_by_document.py').read())"

with the policies loaded in the database the settings point at (`make run` / `setup_portal` does it).
Prints one table per profile: document key, then counts per status, then the computed total and the
ceilings (yuan) where that version tells them apart.
"""

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from matching import selectors
from portal.selfcheck.evaluation import evaluate_answers

AS_OF = dt.date(2025, 6, 1)
profiles = yaml.safe_load(Path("tools/demo_profiles.yaml").read_text(encoding="utf-8"))
catalog = selectors.catalog()
specs = selectors.benefit_specs()
for name, profile in profiles.items():
    answers = {code: value for code, value in profile["answers"].items() if code in catalog}
    result = evaluate_answers(answers, as_of=AS_OF, specs=specs, catalog=catalog)
    by_document: dict[str, Counter] = defaultdict(Counter)
    for verdict in result.verdicts:
        by_document[verdict.spec.document_key][verdict.status.slug] += 1
    stack = result.stack
    print(f"## {name}: {profile['label']} (as of {AS_OF}; {len(answers)} answers used)")
    for key in sorted(by_document):
        counts = ", ".join(f"{slug} {n}" for slug, n in sorted(by_document[key].items()))
        print(f"  {key}: {counts}")
    print(f"  total {stack.total}; ceilings {getattr(stack, 'ceiling_total', 'n/a')}")
