"""Bad inputs across the whole surface (issue 8's figure): API bodies, raw bodies, queries and routes, OSS
and MNS events, and upload keys OSS accepts (Chinese, ideographic space, emoji, control characters,
1023-byte keys, dot segments), sent in process to the functions over the fake world.

    python -m bench bad_inputs

The catalogue and its rules: tests/unit/functions/bad_inputs.py.
"""

from __future__ import annotations

import json

from tests.unit.functions.bad_inputs import run_catalogue


def main() -> None:
    tally = run_catalogue()
    figures = {name: value for name, value in vars(tally).items() if name != "codes"}
    figures["codes"] = dict(tally.codes)
    figures["bad_inputs"] = tally.bad_inputs
    print(json.dumps(figures, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
