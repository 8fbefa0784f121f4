#!/usr/bin/env python3
"""Builds the project's endpoint table from the SDK catalog.

Inputs (committed):  api/catalog.json     facts extracted from the official SDK
                     api/cli-compat.json  facts about the official CLI the catalog lacks
Outputs (committed): api/endpoints.json   the project's own API description
                     src/api/generated.rs the same table as Rust statics (no parsing at start-up)
                     src/api/group_help.rs one line per command group (cli-compat.json group_help)

    python3 api/generate.py          rewrite both outputs
    python3 api/generate.py --check  exit 1 if either output is stale
"""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOG = os.path.join(ROOT, "api", "catalog.json")
COMPAT = os.path.join(ROOT, "api", "cli-compat.json")
OUT_JSON = os.path.join(ROOT, "api", "endpoints.json")
OUT_RS = os.path.join(ROOT, "src", "api", "generated.rs")
OUT_GROUP_HELP = os.path.join(ROOT, "src", "api", "group_help.rs")

STRING, INTEGER, NUMBER, BOOLEAN, OBJECT, ARRAY, NULL = 1, 2, 4, 8, 16, 32, 64
ANY = 127
TYPE_BITS = {"string": STRING, "integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN,
             "object": OBJECT, "array": ARRAY, "null": NULL}
TYPE_NAMES = [(STRING, "string"), (INTEGER, "integer"), (NUMBER, "number"), (BOOLEAN, "boolean"),
              (OBJECT, "object"), (ARRAY, "array"), (NULL, "null")]

# Flags every command already has (global or client-side); a parameter never takes these names.
# `--workspace-id` and `--organization-id` are global flags too, but an Admin API parameter of
# that name takes it on its own command (clap then does not give that command the global flag).
RESERVED_FLAGS = {"debug", "base-url", "format", "format-error", "transform", "transform-error",
                  "raw-output", "api-key", "admin-key", "auth-token", "webhook-key", "profile",
                  "identity-token", "identity-token-file", "federation-rule",
                  "max-retries", "timeout", "max-items", "output", "help", "verbose"}
# Headers sent from global flags rather than per-command flags.
GLOBAL_HEADERS = {"anthropic-workspace-id"}


class Gen:
    def __init__(self, catalog, compat):
        self.defs = catalog["$defs"]
        self.compat = compat
        self.used_defs = set()

    # ---- schema helpers -------------------------------------------------------------
    def deref(self, s, seen=None):
        seen = seen or set()
        while isinstance(s, dict) and "$ref" in s:
            name = s["$ref"].rsplit("/", 1)[1]
            if name in seen:
                return {}
            seen.add(name)
            s = self.defs[name]
        return s

    def branches(self, s):
        """The alternatives of a schema, with $refs and nested anyOfs flattened."""
        s = self.deref(s)
        alts = s.get("anyOf") or s.get("oneOf")
        if alts:
            out = []
            for a in alts:
                out.extend(self.branches(a))
            return out
        return [s]

    def types_of(self, s):
        bits = 0
        for b in self.branches(s):
            if "const" in b:
                bits |= json_type(b["const"])
            elif "enum" in b:
                for v in b["enum"]:
                    bits |= json_type(v)
            elif "type" in b:
                ts = b["type"] if isinstance(b["type"], list) else [b["type"]]
                for t in ts:
                    bits |= TYPE_BITS[t]
            elif "properties" in b or "additionalProperties" in b:
                bits |= OBJECT
            elif "items" in b:
                bits |= ARRAY
            else:
                bits |= ANY
        if bits & NUMBER:
            bits |= INTEGER
        return bits

    def untyped(self, s):
        """Date-time strings are passed as relaxed YAML, as the official CLI does."""
        return any(b.get("format") == "date-time" for b in self.branches(s))

    def enum_of(self, s):
        """Closed set of string values, or [] when any string is allowed."""
        values = []
        for b in self.branches(s):
            if "const" in b:
                vals = [b["const"]]
            elif "enum" in b:
                vals = b["enum"]
            elif b.get("type") == "string" or b.get("type") == ["string"]:
                return []
            else:
                continue
            for v in vals:
                if isinstance(v, str) and v not in values:
                    values.append(v)
        return values

    def items_of(self, s):
        for b in self.branches(s):
            if b.get("type") == "array" or "items" in b:
                return b.get("items", {})
        return {}

    def properties_of(self, s):
        """Union of the properties of every object alternative (of the items for arrays)."""
        props = {}
        for b in self.branches(s):
            if b.get("type") == "array" or "items" in b:
                for k, v in self.properties_of(b.get("items", {})).items():
                    props.setdefault(k, []).extend(v)
            for k, v in (b.get("properties") or {}).items():
                props.setdefault(k, []).append(v)
        return props

    def collect_refs(self, s):
        if isinstance(s, dict):
            for k, v in s.items():
                if k == "$ref" and isinstance(v, str):
                    name = v.rsplit("/", 1)[1]
                    if name not in self.used_defs:
                        self.used_defs.add(name)
                        self.collect_refs(self.defs[name])
                else:
                    self.collect_refs(v)
        elif isinstance(s, list):
            for v in s:
                self.collect_refs(v)

    # ---- one operation --------------------------------------------------------------
    def param(self, name, sdk_arg, loc, wire, required, schema, file=False, op_name=""):
        types = self.types_of(schema)
        untyped = self.untyped(schema)
        if untyped:
            types = ANY
        repeated = (types & ~NULL) == ARRAY and not file
        item_types = 0
        enum = self.enum_of(schema)
        if repeated:
            items = self.items_of(schema)
            item_types = self.types_of(items)
            enum = self.enum_of(items)
        if file:
            repeated = (types & ~NULL) == ARRAY
            types = STRING if not repeated else ARRAY
            item_types = STRING if repeated else 0
            enum = []
        base = kebab(sdk_arg)
        # List fields take a singular flag name, also when they may be a
        # string or null as well (`fallbacks` -> `--fallback`), as in the
        # official CLI; untyped values keep their name.
        takes_list = repeated or (types & ARRAY and types != ANY)
        flag = singular(base) if takes_list else base
        inner = []
        if loc == "body" and not file:
            for pname, pschemas in self.properties_of(schema).items():
                merged = {"anyOf": pschemas} if len(pschemas) > 1 else pschemas[0]
                itypes = ANY if self.untyped(merged) else self.types_of(merged)
                inner.append({"flag": kebab(pname), "name": pname, "types": type_list(itypes),
                              "enum": self.enum_of(merged), "schema": merged})
                self.collect_refs(merged)
        self.collect_refs(schema)
        return {"name": name, "flag": flag, "loc": loc, "wire": wire, "required": required,
                "types": type_list(types), "repeated": repeated, "item_types": type_list(item_types),
                "enum": enum, "inner": inner, "file": file, "schema": schema}

    def operation(self, e):
        group, verb = e["resource"], e["operation"]
        key = f"{group} {verb}"
        compat = self.compat
        params = []
        for p in e.get("path_params", []):
            params.append(self.param(p["name"], p["sdk_arg"], "path", p["name"], True, p["schema"]))
        extra = compat["cli_only_fields"].get(key, {})
        bounds = compat["query_bounds"]["params"]
        for p in e.get("query_params", []):
            schema = dict(p["schema"], **bounds.get(p["name"], {}))
            params.append(self.param(p["name"], p["sdk_arg"], "query", p.get("wire_key") or p["name"],
                                     bool(p.get("required")), schema))
        for name, schema in extra.get("query", {}).items():
            params.append(self.param(name, name, "query", name, False, schema))
        beta_flag = group in compat["beta_flag_groups"]
        for h in e.get("header_params", []):
            if h["name"] == "anthropic-beta":
                beta_flag = True
                continue
            if h["name"].lower() in GLOBAL_HEADERS:
                continue
            params.append(self.param(h["name"], h["sdk_arg"], "header", h["name"],
                                     bool(h.get("required")), h["schema"]))
        body = e.get("body") or None
        files = set(e.get("multipart_file_fields") or [])
        if body:
            schema = body["schema"]
            required = set(schema.get("required", []))
            for name, ps in (schema.get("properties") or {}).items():
                params.append(self.param(name, name, "body", name, name in required, ps,
                                         file=name in files, op_name=key))
            for name, ps in extra.get("body", {}).items():
                params.append(self.param(name, name, "body", name, False, ps))
        whole = compat["whole_list_flags"]["operations"].get(key, [])
        for p in params:
            if p["name"] in whole:
                # One value holds the whole list (repeating replaces it).
                p["repeated"], p["item_types"], p["enum"] = False, [], []
        unknown = set(whole) - {p["name"] for p in params}
        if unknown:
            raise SystemExit(f"{key}: whole_list_flags names unknown fields {sorted(unknown)}")
        nouns = compat["nouns"][group]
        for p in params:
            p["help"] = field_help(compat, p, nouns)
        seen = {}
        for p in params:
            if p["flag"] in RESERVED_FLAGS:
                p["flag"] = kebab(p["name"]).replace("[", "-").replace("]", "")
                if p["flag"] in RESERVED_FLAGS:
                    raise SystemExit(f"{key}: parameter {p['name']} collides with a global flag")
            if p["flag"] in seen:  # a singular name taken by another parameter: keep the plural
                p["flag"] = kebab(p["name"])
            seen[p["flag"]] = p

        resp = e["response"]
        kind = resp["kind"]
        response = {"kind": kind}
        if kind == "json" and any("stream" in s for s in (e.get("required_arg_sets") or [])) or \
                key in ("completions create",):
            response = {"kind": "json_or_sse"}
        if kind == "page":
            pg = e["pagination"]
            style = compat_page(pg)
            style["limit_caps_items"] = key in compat["limit_caps_items"]["operations"]
            response = {"kind": "page", "paging": style}
        # The body's schema (a page's whole envelope); for event streams, each event's.
        schema = resp.get("schema") or resp.get("item_schema")
        if schema and key in compat["nullable_responses"]["operations"]:
            schema = {"anyOf": [schema, {"type": "null"}]}
        if schema:
            response["schema"] = schema
            self.collect_refs(schema)
        # Operations that stream when asked (`stream: true`): each event's schema, with the
        # `ping` and `error` events the API sends in every stream besides the SDK's union.
        item = resp.get("stream_item_schema")
        if response["kind"] == "json_or_sse" and item:
            error = "#/$defs/BetaErrorResponse" if group.startswith("beta:") else "#/$defs/ErrorResponse"
            response["stream_schema"] = {"anyOf": [
                item,
                {"type": "object", "properties": {"type": {"const": "ping", "type": "string"}},
                 "required": ["type"]},
                {"$ref": error}]}
            self.collect_refs(response["stream_schema"])
        if e.get("multipart"):
            body_kind = "multipart"
        elif body:
            body_kind = "json"
        else:
            body_kind = "none"
        default_beta = e.get("default_beta") or compat["default_betas"].get(group)
        return {"group": group, "verb": verb, "summary": summary(compat, group, verb),
                "method": e["http_method"], "path": e["path"], "beta": group.startswith("beta:"),
                "default_beta": default_beta, "beta_flag": beta_flag, "body": body_kind,
                "response": response, "params": params}


def field_help(compat, p, nouns):
    """A short description of a parameter, in our own words (cli-compat.json field_help)."""
    name = p["name"]
    if p["loc"] == "path" and name.endswith("_id"):
        return "ID of the " + name[:-3].replace("_", " ")
    text = compat["field_help"].get(name)
    if text is None:
        text = name.replace("_", " ").replace("-", " ").capitalize()
    return text.replace("{one}", nouns[0]).replace("{many}", nouns[1])


def compat_page(pg):
    nxt = [r for r in pg["next_page_request"] if "when_request_has" not in r]
    back = [r for r in pg["next_page_request"] if "when_request_has" in r]
    return {"items": pg["items_field"], "request_param": nxt[0]["request_param"],
            "response_field": nxt[0]["from_response_field"],
            "has_more": "has_more" in pg["response_cursor_fields"],
            "backward": [back[0]["request_param"], back[0]["from_response_field"]] if back else None}


def summary(compat, group, verb):
    nouns = compat["nouns"][group]
    parent = group.rsplit(":", 1)[0]
    one_parent = compat["nouns"].get(parent, nouns)[0] if ":" in group and not parent == "beta" else nouns[0]
    s = compat["summaries"]
    text = s.get(f"{group.split(':')[-1]} {verb}") or s.get(verb) or f"{verb.replace('-', ' ').capitalize()} {{a_one}}"
    a_one = ("an " if nouns[0][0] in "aeioAEIOM" else "a ") + nouns[0]
    text = text.format(one=nouns[0], a_one=a_one, many=nouns[1], one_parent=one_parent)
    if group.startswith("beta:") and "messages" in group and verb == "create" and "batch" not in group:
        text = s["messages create"]
    return text


def json_type(v):
    if v is None:
        return NULL
    if isinstance(v, bool):
        return BOOLEAN
    if isinstance(v, int):
        return INTEGER
    if isinstance(v, float):
        return NUMBER
    if isinstance(v, str):
        return STRING
    if isinstance(v, list):
        return ARRAY
    return OBJECT


def type_list(bits):
    return [name for bit, name in TYPE_NAMES if bits & bit]


def type_bits(names):
    return sum(TYPE_BITS[n] for n in names)


def kebab(name):
    name = re.sub(r"\[(\w+)\]", r"_\1", name)
    return name.replace("_", "-").lower()


def singular(name):
    head, _, last = name.rpartition("-")
    if last.endswith(("us", "is", "ss")):
        pass  # status, analysis, address: already singular
    elif last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("uses", "sses", "xes", "ches", "shes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return f"{head}-{last}" if head else last


def strip_docs(s, names=False):
    """Drops `description`/`title` annotations; `names` marks a map of property names."""
    if isinstance(s, dict):
        if names:
            return {k: strip_docs(v) for k, v in s.items()}
        return {k: strip_docs(v, names=(k == "properties"))
                for k, v in s.items() if not (k in ("description", "title") and isinstance(v, str))}
    if isinstance(s, list):
        return [strip_docs(v) for v in s]
    return s


def each_property(s, visit):
    """Calls visit(name, schema) for every property of every object schema
    nested in `s` (a property map is never taken for a schema itself)."""
    if isinstance(s, dict):
        props = s.get("properties")
        for pname, sub in props.items() if isinstance(props, dict) else []:
            if isinstance(sub, dict):
                visit(pname, sub)
            each_property(sub, visit)
        for k, v in s.items():
            if k != "properties":
                each_property(v, visit)
    elif isinstance(s, list):
        for v in s:
            each_property(v, visit)


def secret_names(gen, compat, endpoints):
    """The secret field names (cli-compat.json secret_fields), checked against
    every schema of the catalog: each listed name must exist, and every string
    field that looks like a secret must be listed one way or the other."""
    sf = compat["secret_fields"]
    names, not_secret = set(sf["names"]), set(sf["not_secret"])
    pattern = re.compile(sf["pattern"])
    seen, unlisted = set(), []

    def check(where):
        def visit(pname, sub):
            if not gen.types_of(sub) & STRING:
                return
            if pname in names:
                seen.add(pname)
            elif pattern.search(pname) and pname not in not_secret:
                unlisted.append(f"{where}.{pname}")
        return visit

    for name, schema in gen.defs.items():
        each_property(schema, check(name))
    for e in endpoints:
        where = e["resource"] + " " + e["operation"]
        each_property(e.get("body") or {}, check(where))
        for p in e.get("query_params", []) + e.get("header_params", []):
            each_property({"properties": {p["name"]: p["schema"]}}, check(where))
    if unlisted:
        raise SystemExit("fields that look like secrets; list each in cli-compat.json secret_fields "
                         "names or not_secret:\n  " + "\n  ".join(sorted(set(unlisted))))
    if names - seen:
        raise SystemExit(f"secret_fields names not in any schema: {sorted(names - seen)}")
    return sorted(names | set(sf["conventional"]))


def mark_secrets(s, names):
    """Marks every property named in `names` with `"x-secret": true`."""
    def visit(pname, sub):
        if pname in names:
            sub["x-secret"] = True
    each_property(s, visit)


def build():
    with open(CATALOG) as f:
        catalog = json.load(f)
    with open(COMPAT) as f:
        compat = json.load(f)
    g = Gen(catalog, compat)
    endpoints = compat["extra_operations"] + catalog["endpoints"]
    ops = [g.operation(e) for e in endpoints]
    lists = {f"{o['group']} {o['verb']}" for o in ops if o["response"]["kind"] == "page"}
    unknown = set(compat["limit_caps_items"]["operations"]) - lists
    if unknown:
        sys.exit(f"cli-compat.json limit_caps_items: not list commands: {sorted(unknown)}")
    for ev in ("BetaManagedAgentsStreamSessionEvents", "BetaManagedAgentsStreamSessionThreadEvents"):
        g.collect_refs({"$ref": f"#/$defs/{ev}"})
    ops = [strip_docs(o) for o in ops]
    defs = {name: strip_docs(g.defs[name]) for name in sorted(g.used_defs)}
    secrets = secret_names(g, compat, endpoints)
    documented = set(compat["secret_fields"]["names"])
    for o in ops:
        for p in o["params"]:
            mark_secrets({"properties": {p["name"]: p["schema"]}} if p["loc"] == "body" else p["schema"],
                         documented)
            for i in p["inner"]:
                mark_secrets({"properties": {i["name"]: i["schema"]}}, documented)
    for schema in defs.values():
        mark_secrets(schema, documented)
    doc = {
        "about": "GENERATED by api/generate.py from api/catalog.json and api/cli-compat.json. Do not edit.",
        "source": catalog["source"],
        "operations": ops,
        "defs": defs,
        "secret_fields": secrets,
    }
    return doc


def rust_str(s):
    return "r##\"" + s + "\"##" if "\"##" not in s else json.dumps(s)


def compact(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=False)


def rs_strs(values):
    return "&[" + ", ".join(json.dumps(v) for v in values) + "]"


def render_rust(doc):
    out = ["// GENERATED by api/generate.py from api/endpoints.json. Do not edit;",
           "// run `python3 api/generate.py` after changing api/catalog.json or api/cli-compat.json.",
           "#![allow(clippy::all)]",
           "use super::*;",
           "",
           "pub static OPERATIONS: &[Operation] = &["]
    for op in doc["operations"]:
        out.append("    Operation {")
        out.append(f"        group: {json.dumps(op['group'])},")
        out.append(f"        verb: {json.dumps(op['verb'])},")
        out.append(f"        summary: {json.dumps(op['summary'])},")
        out.append(f"        method: {json.dumps(op['method'])},")
        out.append(f"        path: {json.dumps(op['path'])},")
        out.append(f"        beta: {str(op['beta']).lower()},")
        db = f"Some({json.dumps(op['default_beta'])})" if op["default_beta"] else "None"
        out.append(f"        default_beta: {db},")
        out.append(f"        beta_flag: {str(op['beta_flag']).lower()},")
        out.append(f"        body: Body::{op['body'].capitalize()},")
        r = op["response"]
        if r["kind"] == "page":
            p = r["paging"]
            back = f"Some(({json.dumps(p['backward'][0])}, {json.dumps(p['backward'][1])}))" if p["backward"] else "None"
            out.append(f"        response: Response::Page(Paging {{ items: {json.dumps(p['items'])}, "
                       f"request_param: {json.dumps(p['request_param'])}, response_field: {json.dumps(p['response_field'])}, "
                       f"has_more: {str(p['has_more']).lower()}, backward: {back}, "
                       f"limit_caps_items: {str(p['limit_caps_items']).lower()} }}),")
        else:
            variant = {"json": "Json", "json_or_sse": "JsonOrSse", "sse": "Sse", "binary": "Binary", "jsonl": "Jsonl"}[r["kind"]]
            out.append(f"        response: Response::{variant},")
        rs = f"Some({rust_str(compact(r['schema']))})" if "schema" in r else "None"
        out.append(f"        response_schema: {rs},")
        ss = f"Some({rust_str(compact(r['stream_schema']))})" if "stream_schema" in r else "None"
        out.append(f"        stream_schema: {ss},")
        out.append("        params: &[")
        for p in op["params"]:
            out.append("            Param {")
            out.append(f"                name: {json.dumps(p['name'])},")
            out.append(f"                help: {json.dumps(p['help'])},")
            out.append(f"                flag: {json.dumps(p['flag'])},")
            out.append(f"                loc: Loc::{p['loc'].capitalize()},")
            out.append(f"                wire: {json.dumps(p['wire'])},")
            out.append(f"                required: {str(p['required']).lower()},")
            out.append(f"                types: {type_bits(p['types'])},")
            out.append(f"                repeated: {str(p['repeated']).lower()},")
            out.append(f"                item_types: {type_bits(p['item_types'])},")
            out.append(f"                enum_values: {rs_strs(p['enum'])},")
            if p["inner"]:
                out.append("                inner: &[")
                for i in p["inner"]:
                    out.append(f"                    Inner {{ flag: {json.dumps(i['flag'])}, name: {json.dumps(i['name'])}, "
                               f"types: {type_bits(i['types'])}, enum_values: {rs_strs(i['enum'])}, "
                               f"schema: {rust_str(compact(i['schema']))} }},")
                out.append("                ],")
            else:
                out.append("                inner: &[],")
            out.append(f"                file: {str(p['file']).lower()},")
            out.append(f"                schema: {rust_str(compact(p['schema']))},")
            out.append("            },")
        out.append("        ],")
        out.append("    },")
    out.append("];")
    out.append("")
    out.append("/// Names of fields that hold secrets, sorted (see cli-compat.json `secret_fields`).")
    out.append(f"pub static SECRET_FIELDS: &[&str] = {rs_strs(doc['secret_fields'])};")
    out.append("")
    out.append("/// Schema definitions referenced by the table, sorted by name.")
    out.append("pub static DEFS: &[(&str, &str)] = &[")
    for name in sorted(doc["defs"]):
        out.append(f"    ({json.dumps(name)}, {rust_str(compact(doc['defs'][name]))}),")
    out.append("];")
    return "\n".join(out) + "\n"


def render_group_help(groups):
    """The one-line description of every command group, from cli-compat.json
    `group_help` (keys without the `beta:` prefix cover both variants); every
    group of the table must have one."""
    with open(COMPAT) as f:
        texts = json.load(f)["group_help"]
    missing = sorted({g for g in groups if g.removeprefix("beta:") not in texts})
    if missing:
        sys.exit("cli-compat.json group_help lacks: " + ", ".join(missing))
    out = ["// GENERATED by api/generate.py from api/cli-compat.json (group_help). Do not edit;",
           "// run `python3 api/generate.py` after changing it.",
           "",
           "/// One line per command group, keyed without the `beta:` prefix, sorted by key.",
           "pub static GROUP_HELP: &[(&str, &str)] = &["]
    for key in sorted(k for k in texts if not k.startswith("_")):
        out.append(f"    ({json.dumps(key)}, {json.dumps(texts[key], ensure_ascii=False)}),")
    out.append("];")
    return "\n".join(out) + "\n"


def main():
    doc = build()
    outputs = {OUT_JSON: json.dumps(doc, indent=1) + "\n", OUT_RS: render_rust(doc),
               OUT_GROUP_HELP: render_group_help(op["group"] for op in doc["operations"])}
    if "--check" in sys.argv:
        stale = []
        for path, text in outputs.items():
            try:
                with open(path) as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        if stale:
            print("stale generated files (run `python3 api/generate.py`):", *stale, sep="\n  ")
            sys.exit(1)
        print("generated files are up to date")
        return
    for path, text in outputs.items():
        with open(path, "w") as f:
            f.write(text)
    print(f"wrote {len(doc['operations'])} operations, {len(doc['defs'])} schema definitions")


if __name__ == "__main__":
    main()
