#!/usr/bin/env python3
"""Scores secret scanners against a labelled corpus, all tools the same way.

A finding counts (true positive) when its line lands on a labelled positive line (or inside a
labelled positive block such as a PEM key); several findings on one positive line count once.
A finding on any other line is a false positive (counted once per distinct path and line). A
labelled positive that no finding lands on is a miss.

Usage:
  score.py --labels LABELS.json --root FILES_DIR [--title T] [--details OUT.md]
           TOOL=FORMAT:REPORT [TOOL=FORMAT:REPORT ...]

FORMAT is one of: warden, betterleaks, kingfisher. Prints a Markdown table (precision, recall,
F1 per provider and overall, per tool) to stdout; --details writes every false positive and
miss of each tool (values redacted) to a Markdown file. Stdlib only.
"""
import argparse
import json
import os
import re
import sys
from collections import defaultdict

MUST_HAVE = ["Railway", "Sentry", "Vercel", "Upstash", "Supabase", "OpenRouter", "Encryption keys"]
# Negative labels on which any finding breaks the "zero findings" target.
ZERO_KINDS = ("supabase-anon-jwt", "supabase-authenticated-jwt", "supabase-publishable-key",
              "placeholder", "reference")


def norm_path(p, root):
    """The path relative to the corpus root, whatever base the tool reported it against
    (scan dir, cwd, enclosing repository, or absolute)."""
    p = p.replace("\\", "/")
    r = os.path.abspath(root).replace("\\", "/").rstrip("/") + "/"
    if p.startswith(r):
        p = p[len(r):]
    while p.startswith("./"):
        p = p[2:]
    parts = p.split("/")
    for i in range(len(parts)):
        cand = "/".join(parts[i:])
        if os.path.exists(os.path.join(root, cand)):
            return cand
    return p


def load_findings(fmt, report, root):
    """[(path, start_line, end_line, rule)] from one tool's report."""
    if not os.path.exists(report) or os.path.getsize(report) == 0:
        return []
    with open(report, encoding="utf-8", errors="replace") as f:
        text = f.read()
    out = []
    if fmt == "warden":
        for f in json.loads(text).get("findings") or []:
            out.append((norm_path(f["path"], root), f["line"], f["line"], f["rule"]))
    elif fmt == "betterleaks":
        doc = json.loads(text)
        items = doc.get("findings") if isinstance(doc, dict) else doc
        for f in items or []:
            loc = f.get("location") or {}
            path = loc.get("path") or f.get("File") or ""
            start = loc.get("start_line") or f.get("StartLine") or 0
            end = loc.get("end_line") or f.get("EndLine") or start
            out.append((norm_path(path, root), int(start), int(end), f.get("rule_id") or f.get("RuleID", "?")))
    elif fmt == "kingfisher":
        doc = json.loads(text)
        items = doc.get("findings") if isinstance(doc, dict) else doc
        for f in items or []:
            fd = f.get("finding") or {}
            rule = (f.get("rule") or {}).get("id", "?")
            line = int(fd.get("line") or 0)
            out.append((norm_path(fd.get("path", ""), root), line, line, rule))
    else:
        raise SystemExit(f"unknown format {fmt}")
    return out


SECRETISH = re.compile(r"[A-Za-z0-9+/_.=%:@-]{16,}")


def redact_line(line):
    """The line's shape with long token-like runs cut to 6 characters and their length."""
    def cut(m):
        s = m.group(0)
        if not re.search(r"[0-9]", s) or not re.search(r"[A-Za-z]", s):
            return s
        return f"{s[:6]}…[{len(s)}]"
    line = SECRETISH.sub(cut, line.rstrip("\r\n"))
    return line if len(line) <= 150 else line[:147] + "..."


def read_lines(root, path, cache={}):
    if path not in cache:
        full = os.path.join(root, path)
        try:
            raw = open(full, "rb").read()
            if raw.startswith(b"\xff\xfe"):
                text = raw[2:].decode("utf-16-le", errors="replace")
            elif raw.startswith(b"\xfe\xff"):
                text = raw[2:].decode("utf-16-be", errors="replace")
            else:
                text = raw.decode("utf-8", errors="replace")
            cache[path] = text.replace("\r\n", "\n").split("\n")
        except OSError:
            cache[path] = []
    return cache[path]


def f1(p, r):
    return 2 * p * r / (p + r) if p + r else 0.0


def fmt3(x):
    return "—" if x is None else f"{x:.3f}"


class Score:
    def __init__(self, labels, findings):
        self.pos_at = {}          # (path, line) -> label index (positive)
        self.neg_at = {}          # (path, line) -> label (negative)
        for i, l in enumerate(labels):
            for ln in range(l["line"], l.get("end_line", l["line"]) + 1):
                if l["label"] == "positive":
                    self.pos_at.setdefault((l["path"], ln), i)
                else:
                    self.neg_at.setdefault((l["path"], ln), l)
        self.labels = labels
        self.findings = findings
        hit = set()
        fps = {}
        for path, start, end, rule in findings:
            lines = range(start, min(end, start + 200) + 1)
            idx = next((self.pos_at[(path, ln)] for ln in lines if (path, ln) in self.pos_at), None)
            if idx is not None:
                hit.add(idx)
            else:
                fps.setdefault((path, start), set()).add(rule)
        self.hit = hit
        self.fps = fps
        self.tp = defaultdict(int)
        self.npos = defaultdict(int)
        self.fp = defaultdict(int)
        for i, l in enumerate(labels):
            if l["label"] == "positive":
                self.npos[l["provider"]] += 1
                if i in hit:
                    self.tp[l["provider"]] += 1
        for key in fps:
            neg = self.neg_at.get(key)
            self.fp[neg["provider"] if neg else "(unlabelled line)"] += 1

    def prf(self, provider=None):
        if provider is None:
            tp, npos, fp = sum(self.tp.values()), sum(self.npos.values()), sum(self.fp.values())
        else:
            tp, npos, fp = self.tp[provider], self.npos[provider], self.fp[provider]
        p = tp / (tp + fp) if tp + fp else None
        r = tp / npos if npos else None
        f = f1(p or 0.0, r or 0.0) if p is not None and r is not None else None
        return p, r, f, tp, fp, npos

    def misses(self):
        return [l for i, l in enumerate(self.labels) if l["label"] == "positive" and i not in self.hit]

    def zero_violations(self):
        out = []
        for key, rules in self.fps.items():
            neg = self.neg_at.get(key)
            if neg and neg["rule"] in ZERO_KINDS:
                out.append((key, neg, rules))
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--title", default=None)
    ap.add_argument("--details", default=None)
    ap.add_argument("--json", default=None, help="write the numbers as JSON here")
    ap.add_argument("--subset", action="append", default=[], help="also score files under this path prefix alone (repeatable)")
    ap.add_argument("tools", nargs="+", help="TOOL=FORMAT:REPORT")
    a = ap.parse_args()

    doc = json.load(open(a.labels))
    labels = doc["labels"]
    title = a.title or doc.get("corpus", "corpus")
    tools = []
    for spec in a.tools:
        name, rest = spec.split("=", 1)
        fmt, report = rest.split(":", 1)
        try:
            findings = load_findings(fmt, report, a.root)
            tools.append((name, Score(labels, findings), None))
        except (ValueError, KeyError) as e:
            tools.append((name, Score(labels, []), f"unreadable report: {e}"))

    npos = sum(1 for l in labels if l["label"] == "positive")
    nneg = sum(1 for l in labels if l["label"] == "negative")
    nfiles = len({l["path"] for l in labels})
    providers = sorted({l["provider"] for l in labels if l["label"] == "positive"},
                       key=lambda p: (p not in MUST_HAVE, MUST_HAVE.index(p) if p in MUST_HAVE else 0, p))

    print(f"### {title}: {npos} labelled positives, {nneg} labelled hard negatives, {nfiles} files (seed {doc.get('seed')})\n")
    head = "| provider | positives | " + " | ".join(f"{n} P | {n} R | {n} F1" for n, _, _ in tools) + " |"
    print(head)
    print("|" + "---|" * (2 + 3 * len(tools)))

    def row(name, prov, n):
        cells = []
        for _, s, _ in tools:
            p, r, f, *_ = s.prf(prov)
            cells += [fmt3(p), fmt3(r), fmt3(f)]
        print(f"| {name} | {n} | " + " | ".join(cells) + " |")

    row("**overall**", None, npos)
    for prov in providers:
        n = sum(1 for l in labels if l["label"] == "positive" and l["provider"] == prov)
        row(("**" + prov + "**") if prov in MUST_HAVE else prov, prov, n)
    # False positives on lines that are not labelled positive, by the negative's provider.
    fp_provs = sorted({k for _, s, _ in tools for k in s.fp if k not in providers})
    for prov in fp_provs:
        cells = []
        for _, s, _ in tools:
            cells += ["", f"FP {s.fp.get(prov, 0)}", ""]
        print(f"| {prov} (negatives only) | 0 | " + " | ".join(cells) + " |")
    print()
    if a.subset:
        print(head)
        print("|" + "---|" * (2 + 3 * len(tools)))
    for subset in a.subset:
        sub_labels = [l for l in labels if l["path"].startswith(subset)]
        n = sum(1 for l in sub_labels if l["label"] == "positive")
        cells = []
        for name, s, _ in tools:
            findings = [f for f in s.findings if f[0].startswith(subset)]
            p, r, f, *_ = Score(sub_labels, findings).prf()
            cells += [fmt3(p), fmt3(r), fmt3(f)]
        print(f"| **subset `{subset}`** (overall) | {n} | " + " | ".join(cells) + " |")
    if a.subset:
        print()
    summary = []
    for name, s, err in tools:
        p, r, f, tp, fp, n = s.prf()
        zero = s.zero_violations()
        summary.append(f"- **{name}**: TP {tp}, FP {fp}, misses {n - tp}; findings on anon keys / "
                       f"publishable keys / placeholders / references: {len(zero)}" + (f" ({err})" if err else ""))
    print("\n".join(summary))
    print()

    if a.json:
        out = {}
        for name, s, _ in tools:
            p, r, f, tp, fp, n = s.prf()
            out[name] = {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "positives": n,
                         "zero_violations": len(s.zero_violations()),
                         "providers": {prov: dict(zip(("precision", "recall", "f1", "tp", "fp", "positives"), s.prf(prov)))
                                       for prov in providers}}
        json.dump(out, open(a.json, "w"), indent=1)

    if a.details:
        with open(a.details, "w") as out:
            out.write(f"# {title}: false positives and misses\n\n")
            for name, s, _ in tools:
                out.write(f"## {name}\n\n### False positives ({len(s.fps)})\n\n")
                for (path, line), rules in sorted(s.fps.items()):
                    neg = s.neg_at.get((path, line))
                    what = f"negative `{neg['rule']}` ({neg['provider']}, {neg['context']})" if neg else "unlabelled line"
                    text = read_lines(a.root, path)
                    shape = redact_line(text[line - 1]) if 0 < line <= len(text) else "?"
                    out.write(f"- `{path}:{line}` {', '.join(sorted(rules))} on {what}: `{shape}`\n")
                misses = s.misses()
                out.write(f"\n### Misses ({len(misses)})\n\n")
                by_layer = defaultdict(int)
                for l in misses:
                    by_layer[l.get("layer") or "none"] += 1
                out.write("By decoding layer needed: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_layer.items())) + "\n\n")
                for l in misses:
                    text = read_lines(a.root, l["path"])
                    shape = redact_line(text[l["line"] - 1]) if 0 < l["line"] <= len(text) else "?"
                    layer = f" [needs {l['layer']}]" if l.get("layer") else ""
                    out.write(f"- `{l['path']}:{l['line']}` {l['provider']} `{l['rule']}` ({l['context']}){layer}: `{shape}`\n")
                out.write("\n")


if __name__ == "__main__":
    sys.exit(main())
