"""Validates OCSF events, one JSON object per line, with an independent validator: PyPI's
ocsf-emitter (pydantic models generated from the OCSF 1.5.0 schema, and its invariant checks:
class and category identity, type_uid = class_uid * 100 + activity_id, metadata.version).

Its models accept attributes the schema does not define; this script also refuses any such
attribute outside `unmapped`, where OCSF puts what has no place in a class.

Usage: python validate_ocsf.py FILE...   Exit 0 when every event is valid, 1 otherwise.
"""

import json
import sys
from importlib.metadata import version

from pydantic import BaseModel, ValidationError

import ocsf_emitter
from ocsf_emitter import _models as models
from ocsf_emitter import defaults


def undefined_attributes(model, path=""):
    """Attributes of `model` (and of the objects inside it) that its class does not define."""
    found = [f"{path}{name}" for name in (model.model_extra or {})]
    for name, field in type(model).model_fields.items():
        if name == "unmapped":
            continue
        value = getattr(model, name)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, BaseModel):
                found += undefined_attributes(item, f"{path}{field.alias or name}.")
    return found


def main(paths):
    problems, events, classes = [], 0, set()
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                event = json.loads(line)
                where = f"{path}:{number} ({event.get('metadata', {}).get('event_code')})"
                spec = defaults.class_spec_by_uid(event.get("class_uid"))
                if spec is None:
                    problems.append(f"{where}: class_uid {event.get('class_uid')} is not an OCSF 1.5 class")
                    continue
                model = getattr(models, spec.model_name)
                try:
                    instance = ocsf_emitter.validate(model.model_validate(event))
                except (ValidationError, ocsf_emitter.InvalidFindingError) as err:
                    details = getattr(err, "field_errors", None) or [str(err)]
                    problems.append(f"{where}: {'; '.join(details)}")
                    continue
                extra = undefined_attributes(instance)
                if extra:
                    problems.append(f"{where}: attributes {spec.class_name} does not define: {extra}")
                events += 1
                classes.add(spec.class_name)
    for problem in problems:
        print(problem)
    print(
        f"ocsf-emitter {version('ocsf-emitter')} (OCSF {defaults.OCSF_SCHEMA_VERSION}): "
        f"{events} events valid in {len(classes)} classes, {len(problems)} invalid"
    )
    return 1 if problems or events == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
