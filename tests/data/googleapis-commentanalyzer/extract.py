"""Write fields.json from the npm `googleapis` package's commentanalyzer v1alpha1 types.

    python tests/data/googleapis-commentanalyzer/extract.py v1alpha1.d.ts > fields.json

Each schema's fields with their types, as the TypeScript declares them: `string`, `number`,
`boolean`, another schema's name, `T[]` for a list and `map<T>` for an object keyed by
name; and each method's request and response schema.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

INTERFACE = re.compile(r"export interface (Schema|Params)\$(\S+?) (?:extends \w+ )?\{")
FIELD = re.compile(
    r"(\w+)\?: (\{\s*\[key: string\]: Schema\$(\w+);\s*\}|[^;]+?)(?: \| null)?;", re.S
)
METHOD = re.compile(r"(\w+)\(params\?: Params\$Resource\$Comments\$(\w+),[^)]*\): GaxiosPromise")


def _body(text: str, start: int) -> str:
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1 : index]
    raise ValueError("unbalanced braces")


def _type(declared: str, map_of: str | None) -> str:
    if map_of is not None:
        return f"map<{map_of}>"
    return declared.replace("Schema$", "").replace(" | null", "").strip()


def extract(text: str) -> dict[str, Any]:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    schemas: dict[str, dict[str, str]] = {}
    params: dict[str, str] = {}
    for match in INTERFACE.finditer(text):
        kind, name = match.groups()
        body = _body(text, match.end() - 1)
        fields = {f: _type(t, m or None) for f, t, m in FIELD.findall(body)}
        if kind == "Schema":
            schemas[name] = dict(sorted(fields.items()))
        elif name.startswith("Resource$Comments$"):
            params[name.rpartition("$")[2]] = fields["requestBody"]
    methods = {}
    for method, params_name in METHOD.findall(text):
        response = re.search(rf"{method}\(params\?: [^)]*\): GaxiosPromise<Schema\$(\w+)>", text)
        assert response is not None
        methods[method] = {"request": params[params_name], "response": response.group(1)}
    return {"methods": methods, "schemas": dict(sorted(schemas.items()))}


if __name__ == "__main__":
    found = extract(Path(sys.argv[1]).read_text())
    found = {
        "source": "npm googleapis@50.0.0: build/src/apis/commentanalyzer/v1alpha1.d.ts",
        **found,
    }
    print(json.dumps(found, indent=1))
