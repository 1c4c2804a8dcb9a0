#!/usr/bin/env python3
"""An independent labelled corpus for secret scanners, written without looking at warden's
rules: every credential is built here from the *shape descriptions* of
../shared/spec/credential-formats.md (prefix, alphabet, length, encoded structure), never from
rules/*.toml templates or regexes, and placed in file kinds and contexts warden's own corpus
does not use (Helm values, .npmrc, shell scripts with curl -H, Dockerfile ARG/ENV, Java
properties, C# appsettings.json, Kotlin, PHP, Ruby, Swift, logs, Makefiles, INI, tfvars).

Usage: independent_corpus.py OUTDIR [--seed N]
Writes OUTDIR/files/** and OUTDIR/labels.json (same schema as examples/eval_corpus.rs:
path, line, end_line, provider, rule, label, context, layer). Stdlib only, deterministic for
a seed. Nothing format-valid is stored in this file: tokens are drawn at run time.
"""
import base64
import json
import os
import random
import string
import sys
import zlib

LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
DIGITS = string.digits
HEXL = "0123456789abcdef"
ALNUM = UPPER + LOWER + DIGITS
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BASE62 = DIGITS + UPPER + LOWER
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l".upper()
B32 = UPPER + "234567"
ENC = "Encryption keys"


class Tok:
    """Builds credentials from the spec's shape descriptions."""

    def __init__(self, rnd):
        self.r = rnd

    def s(self, alphabet, n):
        # Mixed alphabets get at least one upper, lower and digit (realistic random tokens do).
        while True:
            v = "".join(self.r.choice(alphabet) for _ in range(n))
            if n < 12 or not (set(alphabet) & set(UPPER) and set(alphabet) & set(DIGITS)):
                return v
            if any(c.isupper() for c in v) and any(c.isdigit() for c in v) and (
                    not set(alphabet) & set(LOWER) or any(c.islower() for c in v)):
                return v

    def hex(self, n):
        while True:
            v = self.s(HEXL, n)
            if any(c.isalpha() for c in v) and any(c.isdigit() for c in v):
                return v

    def raw(self, n):
        return bytes(self.r.getrandbits(8) for _ in range(n))

    def uuid(self, v4=True):
        h = self.hex(32)
        if v4:
            h = h[:12] + "4" + h[13:16] + self.r.choice("89ab") + h[17:]
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # --- Sentry (spec 1.x)
    def sentry_org(self):
        org = self.s(LOWER, self.r.randint(3, 12)) + self.r.choice(["", "-inc", "-labs"])
        payload = json.dumps({"iat": round(1.69e9 + self.r.random() * 7e7, 6), "url": "https://sentry.io",
                              "region_url": self.r.choice(["https://us.sentry.io", "https://de.sentry.io"]),
                              "org": org}, separators=(",", ":"))
        return "sntrys_" + base64.b64encode(payload.encode()).decode() + "_" + self.s(B64, 43)

    def sentry_user(self):
        return "sntryu_" + self.hex(64)

    def sentry_dsn_secret(self, host="sentry.io"):
        return f"https://{self.hex(32)}:{self.hex(32)}@{host}/{self.r.randint(2, 999999)}"

    def sentry_dsn_public(self):
        return f"https://{self.hex(32)}@o{self.r.randint(10**5, 10**7)}.ingest.{self.r.choice(['us.', 'de.', ''])}sentry.io/{self.r.randint(10**6, 10**7)}"

    # --- Vercel (spec 2.x): body 50 [A-Za-z0-9_-] + Base62(CRC32(body)) zero-padded to 6
    def vercel(self, prefix=None):
        prefix = prefix or self.r.choice(["vcp_", "vci_", "vca_", "vcr_", "vck_"])
        body = self.s(ALNUM + "_-", 50)
        n = zlib.crc32(body.encode()) & 0xFFFFFFFF
        out = ""
        for _ in range(6):
            out = BASE62[n % 62] + out
            n //= 62
        return prefix + body + out

    def vercel_legacy(self):
        return self.s(ALNUM, 24)

    # --- Upstash (spec 4.x)
    def upstash_v1(self, db):
        raw = bytes([0x01]) + db.to_bytes(2, "big") + b"\x00\x02" + bytes([0x49]) + b"p1" + self.hex(32).encode()
        return base64.b64encode(raw).decode().rstrip("=")

    def upstash_v1_uuid(self, db):
        raw = bytes([0x01]) + db.to_bytes(2, "big") + b"\x01\x24\x20" + self.uuid().encode()
        return base64.b64encode(raw).decode().rstrip("=")

    def upstash_v2(self, db):
        raw = bytes([0x81]) + db.to_bytes(8, "big") + b"\x00\x02" + bytes([0x49]) + b"p" + str(self.r.randint(1, 9)).encode() + self.hex(32).encode()
        return base64.b64encode(raw).decode().rstrip("=")

    def upstash_host(self, db):
        return f"{self.r.choice(['ample', 'brave', 'prime', 'quiet', 'noble', 'fond'])}-{self.r.choice(['fox', 'owl', 'lynx', 'koala', 'ram'])}-{db}.upstash.io"

    def qstash(self, user=None, pw=None):
        body = json.dumps({"UserID": user or self.uuid(), "Password": pw or self.hex(32)}, separators=(",", ":"))
        return base64.b64encode(body.encode()).decode()

    def qstash_sig(self):
        return "sig_" + self.s(BASE58, 28)

    # --- Supabase (spec 5.x)
    def jwt(self, payload):
        def enc(o):
            return base64.urlsafe_b64encode(json.dumps(o, separators=(",", ":")).encode()).decode().rstrip("=")
        sig = base64.urlsafe_b64encode(self.raw(32)).decode().rstrip("=")
        return enc({"alg": "HS256", "typ": "JWT"}) + "." + enc(payload) + "." + sig

    def supabase_jwt(self, role, iss="supabase"):
        iat = self.r.randint(1_600_000_000, 1_750_000_000)
        return self.jwt({"iss": iss, "ref": self.s(LOWER, 20), "role": role, "iat": iat, "exp": iat + 315_360_000})

    def sb_secret(self):
        return "sb_secret_" + self.s(B64URL, 22) + "_" + self.s(ALNUM, 8)

    def sb_publishable(self):
        return "sb_publishable_" + self.s(B64URL, 22) + "_" + self.s(ALNUM, 8)

    def sbp(self):
        return "sbp_" + self.hex(40)

    def supabase_db(self, pooler=False):
        ref = self.s(LOWER + DIGITS, 20)
        pw = self.s(ALNUM, self.r.randint(14, 24))
        if pooler:
            return f"postgresql://postgres.{ref}:{pw}@aws-0-{self.r.choice(['eu-central-1', 'us-west-1', 'ap-south-1'])}.pooler.supabase.com:6543/postgres"
        return f"postgresql://postgres:{pw}@db.{ref}.supabase.co:5432/postgres"

    # --- OpenRouter (spec 6)
    def openrouter(self):
        return "sk-or-v1-" + self.hex(64)

    # --- key material (spec 7)
    def b64key(self, n=32):
        return base64.b64encode(self.raw(n)).decode()

    def hexkey(self, n=32):
        return self.raw(n).hex()

    def fernet(self):
        return base64.urlsafe_b64encode(self.raw(32)).decode()

    def age(self):
        return "AGE-SECRET-KEY-1" + self.s(BECH32, 58)

    # --- common types (spec 10)
    def aws_id(self):
        return "AKIA" + self.s(B32, 16)

    def aws_secret(self):
        return self.s(B64, 40)

    def github(self, prefix="ghp_"):
        body = self.s(ALNUM, 30)
        n = zlib.crc32(body.encode()) & 0xFFFFFFFF
        out = ""
        for _ in range(6):
            out = BASE62[n % 62] + out
            n //= 62
        return prefix + body + out

    def pem(self, kind="RSA PRIVATE KEY", n=900):
        body = base64.b64encode(self.raw(n)).decode()
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return ["-----BEGIN " + kind + "-----"] + lines + ["-----END " + kind + "-----"]

    def common(self):
        """(provider, rule, key, value) of one random common-type credential."""
        r = self.r
        c = r.choice([
            ("AWS", "aws-access-key-id", "AWS_ACCESS_KEY_ID", self.aws_id),
            ("AWS", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", self.aws_secret),
            ("GitHub", "github-token", "GITHUB_TOKEN", self.github),
            ("GitHub", "github-fine-grained-pat", "GH_PAT", lambda: "github_pat_" + self.s(ALNUM, 22) + "_" + self.s(ALNUM, 59)),
            ("GitLab", "gitlab-pat", "GITLAB_TOKEN", lambda: "glpat-" + self.s(B64URL, 20)),
            ("Slack", "slack-bot-token", "SLACK_BOT_TOKEN", lambda: f"xoxb-{self.s(DIGITS, 12)}-{self.s(DIGITS, 13)}-{self.s(ALNUM, 24)}"),
            ("Slack", "slack-webhook", "SLACK_WEBHOOK", lambda: f"https://hooks.slack.com/services/T{self.s(UPPER + DIGITS, 10)}/B{self.s(UPPER + DIGITS, 10)}/{self.s(ALNUM, 24)}"),
            ("Stripe", "stripe-secret-key", "STRIPE_API_KEY", lambda: "sk_live_" + self.s(ALNUM, 99)),
            ("Stripe", "stripe-webhook-secret", "STRIPE_WEBHOOK_SIGNING_SECRET", lambda: "whsec_" + self.s(ALNUM, 32)),
            ("OpenAI", "openai-api-key", "OPENAI_KEY", lambda: "sk-proj-" + self.s(B64URL, 60) + "T3BlbkFJ" + self.s(B64URL, 60)),
            ("Anthropic", "anthropic-api-key", "CLAUDE_API_KEY", lambda: "sk-ant-api03-" + self.s(B64URL, 93) + "AA"),
            ("Google", "google-api-key", "MAPS_API_KEY", lambda: "AIza" + self.s(B64URL, 35)),
            ("npm", "npm-token", "NODE_AUTH_TOKEN", lambda: "npm_" + self.s(ALNUM, 36)),
            ("SendGrid", "sendgrid-api-key", "SMTP_PASSWORD", lambda: "SG." + self.s(B64URL, 22) + "." + self.s(B64URL, 43)),
            ("Hugging Face", "huggingface-token", "HF_API_TOKEN", lambda: "hf_" + self.s(UPPER + LOWER, 34)),
            ("Groq", "groq-api-key", "GROQ_KEY", lambda: "gsk_" + self.s(ALNUM, 52)),
            ("DigitalOcean", "digitalocean-token", "DO_TOKEN", lambda: "dop_v1_" + self.hex(64)),
            ("Shopify", "shopify-token", "SHOPIFY_TOKEN", lambda: "shpat_" + self.hex(32)),
        ])
        return c[0], c[1], c[2], c[3]()


class File:
    def __init__(self, path, crlf=False):
        self.path, self.lines, self.labels, self.crlf, self.nl = path, [], [], crlf, True

    def t(self, s):
        self.lines.extend(s.split("\n"))

    def lab(self, positive, provider, rule, ctx, s, layer=None):
        start = len(self.lines) + 1
        self.t(s)
        self.labels.append({"path": self.path, "line": start, "end_line": len(self.lines), "provider": provider,
                            "rule": rule, "label": "positive" if positive else "negative", "context": ctx,
                            "layer": layer})

    def p(self, provider, rule, ctx, s, layer=None):
        self.lab(True, provider, rule, ctx, s, layer)

    def n(self, provider, what, ctx, s):
        self.lab(False, provider, what, ctx, s)

    def data(self):
        sep = "\r\n" if self.crlf else "\n"
        return (sep.join(self.lines) + (sep if self.nl else "")).encode()


def priority_set(tk):
    """(provider, rule, [key names], value) for every must-have credential shape, fresh values."""
    r = tk.r
    db1, db2 = r.randint(2000, 65000), r.randint(100000, 2_000_000)
    return [
        ("Sentry", "sentry-org-token", ["SENTRY_AUTH_TOKEN", "sentry.auth.token"], tk.sentry_org()),
        ("Sentry", "sentry-user-token", ["SENTRY_AUTH_TOKEN", "sentryApiToken"], tk.sentry_user()),
        ("Sentry", "sentry-legacy-token", ["SENTRY_AUTH_TOKEN", "sentry_api_token", "SentryToken"], tk.hex(64)),
        ("Sentry", "sentry-dsn-secret", ["SENTRY_DSN", "sentry.dsn"], tk.sentry_dsn_secret(r.choice(["sentry.io", "errors.corp.example.net"]))),
        ("Vercel", "vercel-token", ["VERCEL_TOKEN", "vercel.token", "VercelApiToken"], tk.vercel()),
        ("Vercel", "vercel-token", ["AI_GATEWAY_API_KEY"], tk.vercel("vck_")),
        ("Vercel", "vercel-legacy-token", ["VERCEL_TOKEN", "vercel_access_token", "VercelToken"], tk.vercel_legacy()),
        ("Railway", "railway-token", ["RAILWAY_TOKEN", "RAILWAY_API_TOKEN", "railway.token", "RailwayApiToken"], tk.uuid()),
        ("Railway", "railway-token", ["RAILWAY_TOKEN", "railway_project_token"], tk.uuid(v4=False)),
        ("Upstash", "upstash-redis-rest-token", ["UPSTASH_REDIS_REST_TOKEN", "upstash.redis.token", "UpstashRedisToken"], tk.upstash_v1(db1)),
        ("Upstash", "upstash-redis-rest-token", ["UPSTASH_REDIS_REST_TOKEN"], tk.upstash_v1_uuid(db1)),
        ("Upstash", "upstash-redis-token-v2", ["UPSTASH_REDIS_REST_TOKEN", "redis_token"], tk.upstash_v2(db2)),
        ("Upstash", "upstash-redis-url", ["UPSTASH_REDIS_URL", "REDIS_URL"], f"rediss://default:{tk.upstash_v1(db1)}@{tk.upstash_host(db1)}:6379"),
        ("Upstash", "upstash-qstash-token", ["QSTASH_TOKEN", "qstash.token"], tk.qstash()),
        ("Upstash", "upstash-qstash-signing-key", ["QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY"], tk.qstash_sig()),
        ("Upstash", "upstash-management-api-key", ["UPSTASH_MANAGEMENT_API_KEY", "UPSTASH_API_KEY"], tk.uuid()),
        ("Upstash", "upstash-service-token", ["UPSTASH_VECTOR_REST_TOKEN"], tk.upstash_v1(r.randint(2000, 65000))),
        ("Supabase", "supabase-secret-key", ["SUPABASE_SECRET_KEY", "supabase.secret-key"], tk.sb_secret()),
        ("Supabase", "supabase-service-role-jwt", ["SUPABASE_SERVICE_ROLE_KEY", "SupabaseServiceKey"], tk.supabase_jwt("service_role")),
        ("Supabase", "supabase-pat", ["SUPABASE_ACCESS_TOKEN"], tk.sbp()),
        ("Supabase", "supabase-db-url", ["DATABASE_URL", "spring.datasource.url"], tk.supabase_db(pooler=r.random() < 0.5)),
        ("Supabase", "supabase-jwt-secret", ["SUPABASE_JWT_SECRET", "JWT_SECRET"], tk.s(ALNUM, 40)),
        ("OpenRouter", "openrouter-api-key", ["OPENROUTER_API_KEY", "OPENAI_API_KEY", "openrouter.api-key", "LLM_API_KEY"], tk.openrouter()),
        (ENC, "generic-encryption-key", ["ENCRYPTION_KEY", "DB_ENCRYPTION_KEY", "encryption.key"], tk.b64key(32)),
        (ENC, "generic-encryption-key", ["AES_KEY", "DATA_ENCRYPTION_KEY", "COLUMN_ENCRYPTION_KEY"], tk.hexkey(32)),
        (ENC, "generic-encryption-key", ["FERNET_KEY"], tk.fernet()),
        (ENC, "generic-encryption-key", ["APP_KEY"], "base64:" + tk.b64key(32)),
        (ENC, "generic-encryption-key", ["ENCRYPTION_SECRET", "MASTER_KEY"], tk.b64key(24)),
        (ENC, "rails-master-key-env", ["RAILS_MASTER_KEY"], tk.hexkey(16)),
        (ENC, "age-secret-key", ["SOPS_AGE_KEY"], tk.age()),
    ]


def style(kind, key, v):
    """key/value written in a file kind's idiom."""
    up = key.upper().replace(".", "_").replace("-", "_")
    if kind == "dockerfile":
        return f"ENV {up}={v}"
    if kind == "dockerarg":
        return f"ARG {up}={v}"
    if kind == "properties":
        return f"{key.lower().replace('_', '.')}={v}"
    if kind == "kotlin":
        camel = "".join(w.capitalize() for w in key.replace(".", "_").replace("-", "_").lower().split("_"))
        return f"    val {camel[0].lower() + camel[1:]} = \"{v}\""
    if kind == "php":
        return f"    '{key.lower().replace('.', '_')}' => '{v}',"
    if kind == "ruby":
        return f"  config.{key.lower().replace('.', '_').replace('-', '_')} = \"{v}\""
    if kind == "helm":
        return f"    {up}: \"{v}\""
    if kind == "ini":
        return f"{key.lower().replace('.', '_')} = {v}"
    if kind == "makefile":
        return f"{up} ?= {v}"
    if kind == "tfvars":
        return f"{key.lower().replace('.', '_').replace('-', '_')} = \"{v}\""
    if kind == "csharp":
        return f"        public const string {''.join(w.capitalize() for w in key.replace('.', '_').lower().split('_'))} = \"{v}\";"
    if kind == "swift":
        return f"    static let {key.replace('.', '_').lower()} = \"{v}\""
    if kind == "appsettings":
        return f"    \"{''.join(w.capitalize() for w in key.replace('.', '_').lower().split('_'))}\": \"{v}\","
    raise ValueError(kind)


def negatives(tk, kind):
    """(provider, what, key, value) hard negatives written in any file kind."""
    r = tk.r
    ref = tk.s(LOWER, 20)
    return [
        ("Supabase", "supabase-anon-jwt", "SUPABASE_ANON_KEY", tk.supabase_jwt("anon")),
        ("Supabase", "supabase-anon-jwt", "PUBLIC_SUPABASE_KEY", tk.supabase_jwt("anon")),
        ("Supabase", "supabase-publishable-key", "SUPABASE_PUBLISHABLE_KEY", tk.sb_publishable()),
        ("Supabase", "supabase-demo-jwt", "SERVICE_KEY", tk.supabase_jwt("service_role", iss="supabase-demo")),
        ("Supabase", "placeholder", "SUPABASE_SERVICE_ROLE_KEY", "your-service-role-key-here"),
        ("Supabase", "local-default", "DB_URL", "postgresql://postgres:postgres@localhost:54322/postgres"),
        ("Supabase", "project-url", "SUPABASE_URL", f"https://{ref}.supabase.co"),
        ("Sentry", "sentry-dsn-public", "SENTRY_DSN", tk.sentry_dsn_public()),
        ("Sentry", "git-sha", "SENTRY_RELEASE", tk.hex(40)),
        ("Sentry", "placeholder", "SENTRY_AUTH_TOKEN", "sntryu_" + "x" * 64),
        ("Stripe", "stripe-publishable-key", "STRIPE_PUBLISHABLE_KEY", "pk_live_" + tk.s(ALNUM, 99)),
        ("Vercel", "vercel-project-id", "VERCEL_PROJECT_ID", "prj_" + tk.s(ALNUM, 28)),
        ("Vercel", "git-sha", "VERCEL_GIT_COMMIT_SHA", tk.hex(40)),
        ("Vercel", "placeholder", "VERCEL_TOKEN", "REPLACE_ME"),
        ("Railway", "railway-replica-id", "RAILWAY_REPLICA_ID", tk.uuid()),
        ("Railway", "railway-deployment-id", "RAILWAY_DEPLOYMENT_ID", tk.uuid()),
        ("Railway", "railway-project-id", "RAILWAY_PROJECT_ID", tk.uuid()),
        ("Upstash", "upstash-url", "UPSTASH_REDIS_REST_URL", "https://" + tk.upstash_host(r.randint(1000, 60000))),
        ("Upstash", "qstash-dev-default", "QSTASH_TOKEN", tk.qstash("defaultUser", "defaultPassword")),
        ("Upstash", "placeholder", "UPSTASH_REDIS_REST_TOKEN", "********"),
        ("OpenRouter", "placeholder", "OPENROUTER_API_KEY", "sk-or-v1-<your-key>"),
        (ENC, "placeholder", "ENCRYPTION_KEY", "change-me-to-32-random-bytes"),
        (ENC, "identifier", "ENCRYPTION_KEY_ID", tk.uuid()),
        ("Generic", "digest", "IMAGE_DIGEST", "sha256:" + tk.hex(64)),
        ("Generic", "checksum", "BUILD_CHECKSUM", tk.hex(64)),
    ]


def holdout(tk, files):
    """Contexts added after warden's rules were tuned on the rest of this corpus (files under
    holdout/): CI definitions, systemd units, Windows batch, docker/kubectl flags, .NET XML
    config, Postman collections, Gradle properties, SDK constructor calls, Markdown tables.
    Score them separately (score.py --subset holdout/) for a generalisation estimate."""
    r = tk.r
    db = r.randint(2000, 65000)

    f = File("holdout/.gitlab-ci.yml")
    f.t("stages: [deploy]\nvariables:")
    f.p("Railway", "railway-token", "gitlab-ci-variables", f"  RAILWAY_TOKEN: \"{tk.uuid()}\"")
    f.p("Sentry", "sentry-org-token", "gitlab-ci-variables", f"  SENTRY_AUTH_TOKEN: {tk.sentry_org()}")
    f.n("Railway", "ci-variable-reference", "gitlab-ci-variables", "  RAILWAY_API_TOKEN: $RAILWAY_API_TOKEN_PROD")
    f.t("deploy:\n  stage: deploy\n  script:")
    f.p("GitLab", "gitlab-pat", "curl-header", f"    - curl --header \"PRIVATE-TOKEN: glpat-{tk.s(B64URL, 20)}\" https://gitlab.com/api/v4/projects")
    f.n("GitLab", "ci-job-token", "cli", "    - docker login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY")
    f.p("Vercel", "vercel-legacy-token", "cli-flag", f"    - npx vercel deploy --prod --token={tk.vercel_legacy()}")
    files.append(f)

    f = File("holdout/Jenkinsfile")
    f.t("pipeline {\n  agent any\n  environment {")
    f.p("Sentry", "sentry-user-token", "groovy-env", f"    SENTRY_AUTH_TOKEN = '{tk.sentry_user()}'")
    f.p("Upstash", "upstash-redis-rest-token", "groovy-env", f"    UPSTASH_REDIS_REST_TOKEN = \"{tk.upstash_v1(db)}\"")
    f.n("Vercel", "jenkins-credentials", "groovy-env", "    VERCEL_TOKEN = credentials('vercel-token')")
    f.t("  }\n  stages {\n    stage('deploy') {\n      steps {")
    f.n("Vercel", "env-reference", "groovy-sh", "        sh 'vercel deploy --prod --token ${VERCEL_TOKEN}'")
    f.t("      }\n    }\n  }\n}")
    files.append(f)

    f = File("holdout/acme-api.service")
    f.t("[Unit]\nDescription=Acme API\n\n[Service]")
    f.p("Upstash", "upstash-redis-rest-token", "systemd-environment", f"Environment=UPSTASH_REDIS_REST_TOKEN={tk.upstash_v1(db)}")
    f.p("Railway", "railway-token", "systemd-environment", f"Environment=\"RAILWAY_TOKEN={tk.uuid()}\"")
    f.p(ENC, "generic-encryption-key", "systemd-environment", f"Environment=FIELD_ENCRYPTION_KEY={tk.b64key(32)}")
    f.n("Generic", "environment-file", "systemd", "EnvironmentFile=/etc/acme/api.env")
    f.t("ExecStart=/usr/local/bin/acme-api")
    files.append(f)

    f = File("holdout/run-local.bat", crlf=True)
    f.t("@echo off")
    f.p("OpenRouter", "openrouter-api-key", "batch-set", f"set OPENROUTER_API_KEY={tk.openrouter()}")
    f.p("Supabase", "supabase-service-role-jwt", "batch-set-quoted", f"set \"SUPABASE_SERVICE_ROLE_KEY={tk.supabase_jwt('service_role')}\"")
    f.p("Vercel", "vercel-legacy-token", "batch-setx", f"setx VERCEL_TOKEN {tk.vercel_legacy()}")
    f.p("Railway", "railway-token", "batch-setx", f"setx RAILWAY_API_TOKEN {tk.uuid()}")
    f.n("Vercel", "vercel-org-id", "batch-set", f"set VERCEL_ORG_ID=team_{tk.s(ALNUM, 24)}")
    f.t("node server.js")
    files.append(f)

    f = File("holdout/scripts/run-container.sh")
    f.t("#!/bin/sh")
    f.p("Railway", "railway-token", "docker-env-flag", f"docker run --rm -e RAILWAY_TOKEN={tk.uuid()} -p 3000:3000 acme/api")
    f.p("Upstash", "upstash-redis-rest-token", "docker-env-flag", f"docker run --rm -e \"UPSTASH_REDIS_REST_TOKEN={tk.upstash_v1(db)}\" acme/worker")
    f.p(ENC, "generic-encryption-key", "docker-env-flag", f"docker run --env ENCRYPTION_KEY={tk.hexkey(32)} acme/api")
    f.p("Sentry", "sentry-legacy-token", "kubectl-from-literal", f"kubectl create secret generic sentry --from-literal=SENTRY_AUTH_TOKEN={tk.hex(64)}")
    f.p("Supabase", "supabase-jwt-secret", "kubectl-from-literal", f"kubectl create secret generic auth --from-literal=JWT_SECRET={tk.s(ALNUM, 40)}")
    f.n("Railway", "railway-service-id", "kubectl-from-literal", f"kubectl create configmap ids --from-literal=RAILWAY_SERVICE_ID={tk.uuid()}")
    files.append(f)

    f = File("holdout/Web.config", crlf=True)
    f.t("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <appSettings>")
    f.p("Sentry", "sentry-legacy-token", "xml-add-key-value", f"    <add key=\"SentryAuthToken\" value=\"{tk.hex(64)}\" />")
    f.p("Railway", "railway-token", "xml-add-key-value", f"    <add key=\"Railway:ApiToken\" value=\"{tk.uuid()}\" />")
    f.p("Upstash", "upstash-redis-rest-token", "xml-add-key-value", f"    <add key=\"UpstashRedisRestToken\" value=\"{tk.upstash_v1(db)}\" />")
    f.p("OpenRouter", "openrouter-api-key", "xml-add-key-value", f"    <add key=\"OpenRouterApiKey\" value=\"{tk.openrouter()}\" />")
    f.n("Sentry", "git-sha", "xml-add-key-value", f"    <add key=\"SentryRelease\" value=\"{tk.hex(40)}\" />")
    f.t("  </appSettings>\n  <connectionStrings>")
    f.p("Supabase", "supabase-db-url", "xml-connection-string", f"    <add name=\"Supabase\" connectionString=\"{tk.supabase_db()}\" />")
    f.t("  </connectionStrings>\n</configuration>")
    files.append(f)

    f = File("holdout/acme.postman_environment.json")
    f.t("{\n  \"name\": \"prod\",\n  \"values\": [")
    f.p("Railway", "railway-token", "postman-key-value", f"    {{ \"key\": \"RAILWAY_TOKEN\", \"value\": \"{tk.uuid()}\", \"enabled\": true }},")
    f.p("Vercel", "vercel-token", "postman-key-value", f"    {{ \"key\": \"vercelToken\", \"value\": \"{tk.vercel()}\", \"enabled\": true }},")
    f.p("Upstash", "upstash-qstash-signing-key", "postman-key-value", f"    {{ \"key\": \"QSTASH_CURRENT_SIGNING_KEY\", \"value\": \"{tk.qstash_sig()}\", \"enabled\": true }},")
    f.p("OpenRouter", "openrouter-api-key", "postman-header", f"    {{ \"key\": \"Authorization\", \"value\": \"Bearer {tk.openrouter()}\" }},")
    f.n("Railway", "railway-project-id", "postman-key-value", f"    {{ \"key\": \"RAILWAY_PROJECT_ID\", \"value\": \"{tk.uuid()}\", \"enabled\": true }},")
    f.n("Supabase", "supabase-anon-jwt", "postman-key-value", f"    {{ \"key\": \"anon_key\", \"value\": \"{tk.supabase_jwt('anon')}\" }},")
    f.t("    {}\n  ]\n}")
    files.append(f)

    f = File("holdout/gradle.properties")
    f.t("org.gradle.jvmargs=-Xmx2g")
    f.p("Sentry", "sentry-legacy-token", "gradle-properties", f"sentryAuthToken={tk.hex(64)}")
    f.p(ENC, "generic-encryption-key", "gradle-properties", f"appEncryptionKey={tk.b64key(32)}")
    f.n("Generic", "version", "gradle-properties", "sentryPluginVersion=4.14.1")
    files.append(f)

    f = File("holdout/app/clients.py")
    f.t("from openai import OpenAI\nfrom upstash_redis import Redis\nfrom supabase import create_client\n")
    f.p("OpenRouter", "openrouter-api-key", "sdk-kwarg", f"llm = OpenAI(base_url=\"https://openrouter.ai/api/v1\", api_key=\"{tk.openrouter()}\")")
    f.p("Upstash", "upstash-redis-rest-token", "sdk-kwarg-upstash-url", f"redis = Redis(url=\"https://{tk.upstash_host(db)}\", token=\"{tk.upstash_v1(db)}\")")
    f.p("Supabase", "supabase-secret-key", "sdk-positional", f"sb = create_client(\"https://{tk.s(LOWER, 20)}.supabase.co\", \"{tk.sb_secret()}\")")
    f.p("Railway", "railway-access-token-header", "python-dict-header", f"headers = {{\"Project-Access-Token\": \"{tk.uuid()}\"}}")
    f.n("Supabase", "supabase-anon-jwt", "sdk-positional", f"public = create_client(\"https://{tk.s(LOWER, 20)}.supabase.co\", \"{tk.supabase_jwt('anon')}\")")
    f.n("Upstash", "env-reference", "sdk-kwarg", "redis2 = Redis.from_env()")
    files.append(f)

    f = File("holdout/docs/environment.md")
    f.t("# Environment\n\n| variable | value |\n|---|---|")
    f.p("Railway", "railway-token", "markdown-table", f"| `RAILWAY_TOKEN` | `{tk.uuid()}` |")
    f.p("Vercel", "vercel-legacy-token", "markdown-table", f"| `VERCEL_TOKEN` | `{tk.vercel_legacy()}` |")
    f.p("Sentry", "sentry-user-token", "markdown-table", f"| `SENTRY_AUTH_TOKEN` | `{tk.sentry_user()}` |")
    f.n("Railway", "railway-project-id", "markdown-table", f"| `RAILWAY_PROJECT_ID` | `{tk.uuid()}` |")
    f.n("Vercel", "placeholder", "markdown-table", "| `VERCEL_TOKEN` | `<from vercel.com/account/tokens>` |")
    files.append(f)


def holdout2(tk, files):
    """A second held-out batch (holdout2/), written after every rule fix of this branch and
    scored before any fix: Kubernetes env name/value pairs, subscript assignments, Go
    struct literals, HOCON, Elixir, Terraform variable defaults, spaced .env assignments,
    one-line JSON sections."""
    r = tk.r
    db = r.randint(2000, 65000)
    f = File("holdout2/k8s/deployment.yaml")
    f.t("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: acme/api:2.3.1\n          env:")
    f.t("            - name: RAILWAY_TOKEN")
    f.p("Railway", "railway-token", "k8s-env-name-value", f"              value: \"{tk.uuid()}\"")
    f.t("            - name: UPSTASH_REDIS_REST_TOKEN")
    f.p("Upstash", "upstash-redis-rest-token", "k8s-env-name-value", f"              value: {tk.upstash_v1(db)}")
    f.t("            - name: SENTRY_AUTH_TOKEN")
    f.p("Sentry", "sentry-org-token", "k8s-env-name-value", f"              value: {tk.sentry_org()}")
    f.t("            - name: ENCRYPTION_KEY")
    f.p(ENC, "generic-encryption-key", "k8s-env-name-value", f"              value: \"{tk.b64key(32)}\"")
    f.t("            - name: RAILWAY_PROJECT_ID")
    f.n("Railway", "railway-project-id", "k8s-env-name-value", f"              value: \"{tk.uuid()}\"")
    f.t("            - name: SUPABASE_SERVICE_ROLE_KEY\n              valueFrom:")
    f.n("Supabase", "secret-reference", "k8s-env-valuefrom", "                secretKeyRef: { name: supabase, key: service_role }")
    files.append(f)

    f = File("holdout2/scripts/bootstrap.py")
    f.t("import os")
    f.p("Railway", "railway-token", "python-environ-subscript", f"os.environ[\"RAILWAY_TOKEN\"] = \"{tk.uuid()}\"")
    f.p("Vercel", "vercel-legacy-token", "python-environ-subscript", f"os.environ['VERCEL_TOKEN'] = '{tk.vercel_legacy()}'")
    f.p("Upstash", "upstash-qstash-signing-key", "python-environ-setdefault", f"os.environ.setdefault(\"QSTASH_CURRENT_SIGNING_KEY\", \"{tk.qstash_sig()}\")")
    f.n("Railway", "env-reference", "python-environ-subscript", "token = os.environ[\"RAILWAY_TOKEN\"]")
    files.append(f)

    f = File("holdout2/config/boot.rb")
    f.p("Supabase", "supabase-jwt-secret", "ruby-env-subscript", f"ENV[\"SUPABASE_JWT_SECRET\"] ||= \"{tk.s(ALNUM, 40)}\"")
    f.p("Sentry", "sentry-legacy-token", "ruby-env-subscript", f"ENV['SENTRY_AUTH_TOKEN'] = '{tk.hex(64)}'")
    files.append(f)

    f = File("holdout2/internal/config/defaults.go")
    f.t("package config\n\nvar Defaults = Config{")
    f.p("Railway", "railway-token", "go-struct-literal", f"\tRailwayToken: \"{tk.uuid()}\",")
    f.p("Upstash", "upstash-management-api-key", "go-struct-literal", f"\tUpstashAPIKey: \"{tk.uuid()}\",")
    f.p("Vercel", "vercel-legacy-token", "go-struct-literal", f"\tVercelToken:  \"{tk.vercel_legacy()}\",")
    f.n("Railway", "railway-service-id", "go-struct-literal", f"\tRailwayServiceID: \"{tk.uuid()}\",")
    f.t("}")
    files.append(f)

    f = File("holdout2/conf/application.conf")
    f.p("Railway", "railway-token", "hocon-inline-section", f"railway {{ token = \"{tk.uuid()}\" }}")
    f.p("Sentry", "sentry-legacy-token", "hocon-dotted", f"sentry.auth-token = \"{tk.hex(64)}\"")
    files.append(f)

    f = File("holdout2/config/runtime.exs")
    f.t("import Config")
    f.p("Upstash", "upstash-redis-rest-token", "elixir-keyword", f"config :cache, upstash_token: \"{tk.upstash_v1(db)}\"")
    f.p(ENC, "generic-encryption-key", "elixir-keyword", f"config :vault, cipher_key: \"{tk.b64key(32)}\"")
    files.append(f)

    f = File("holdout2/infra/variables.tf")
    f.t("variable \"railway_token\" {\n  type      = string\n  sensitive = true")
    f.p("Railway", "railway-token", "terraform-variable-default", f"  default   = \"{tk.uuid()}\"")
    f.t("}\n\nvariable \"railway_project_id\" {")
    f.n("Railway", "railway-project-id", "terraform-variable-default", f"  default = \"{tk.uuid()}\"")
    f.t("}")
    files.append(f)

    f = File("holdout2/.env.staging")
    f.p("Railway", "railway-token", "env-spaced", f"RAILWAY_TOKEN = {tk.uuid()}")
    f.p("Upstash", "upstash-redis-rest-token", "env-spaced", f"UPSTASH_REDIS_REST_TOKEN = \"{tk.upstash_v1(db)}\"")
    f.p(ENC, "generic-encryption-key", "env-spaced", f"DB_ENCRYPTION_KEY = {tk.hexkey(32)}")
    files.append(f)

    f = File("holdout2/config/settings.min.json")
    f.p("Railway", "railway-token", "json-one-line-section", json.dumps({"railway": {"token": tk.uuid()}, "port": 3000}, separators=(",", ":")))
    f.p("Sentry", "sentry-legacy-token", "json-one-line-section", json.dumps({"sentry": {"authToken": tk.hex(64)}}, separators=(",", ":")))
    files.append(f)


def holdout3(tk, files):
    """A third held-out batch (holdout3/), written after every rule fix of this branch and
    left unfixed: the generalisation estimate for the final rule set. CLI secret setters,
    TOML/INI sections, key/value YAML lists, Apple plist, Android strings.xml, Cloud Run
    flags, Python dict sections."""
    r = tk.r
    db = r.randint(2000, 65000)
    f = File("holdout3/deploy.sh")
    f.t("#!/usr/bin/env bash")
    f.p("Railway", "railway-token", "helm-set-flag", f"helm upgrade api ./chart --set railway.token={tk.uuid()} --set image.tag=2.3.1")
    f.p("Railway", "railway-token", "gh-secret-set-body", f"gh secret set RAILWAY_TOKEN --body \"{tk.uuid()}\"")
    f.p("Upstash", "upstash-redis-rest-token", "heroku-config-set", f"heroku config:set UPSTASH_REDIS_REST_TOKEN={tk.upstash_v1(db)} -a acme-api")
    f.p("Sentry", "sentry-legacy-token", "cloud-run-env-vars", f"gcloud run deploy api --set-env-vars=NODE_ENV=production,SENTRY_AUTH_TOKEN={tk.hex(64)}")
    f.p("Vercel", "vercel-legacy-token", "fly-secrets-set", f"fly secrets set VERCEL_TOKEN={tk.vercel_legacy()} --app acme")
    f.n("Railway", "railway-project-id", "helm-set-flag", f"helm upgrade api ./chart --set railway.projectId={tk.uuid()}")
    files.append(f)

    f = File("holdout3/config.toml")
    f.t("[server]\nport = 8080\n\n[railway]")
    f.p("Railway", "railway-token", "toml-section", f"token = \"{tk.uuid()}\"")
    f.t("\n[sentry]\norg = \"acme\"")
    f.p("Sentry", "sentry-legacy-token", "toml-section", f"auth_token = \"{tk.hex(64)}\"")
    files.append(f)

    f = File("holdout3/secrets.ini")
    f.t("[upstash]")
    f.p("Upstash", "upstash-redis-rest-token", "ini-section", f"rest_token = {tk.upstash_v1(db)}")
    f.t("[encryption]")
    f.p(ENC, "generic-encryption-key", "ini-section", f"key = {tk.b64key(32)}")
    files.append(f)

    f = File("holdout3/cloudbuild.yaml")
    f.t("steps:\n  - name: gcr.io/cloud-builders/docker\n    env:")
    f.t("      - key: RAILWAY_API_TOKEN")
    f.p("Railway", "railway-token", "yaml-key-value-list", f"        value: {tk.uuid()}")
    f.t("      - key: RAILWAY_ENVIRONMENT_ID")
    f.n("Railway", "railway-environment-id", "yaml-key-value-list", f"        value: {tk.uuid()}")
    files.append(f)

    f = File("holdout3/ios/Info.plist")
    f.t("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n  <key>SentryAuthToken</key>")
    f.p("Sentry", "sentry-legacy-token", "plist-key-string", f"  <string>{tk.hex(64)}</string>")
    f.t("  <key>OpenRouterKey</key>")
    f.p("OpenRouter", "openrouter-api-key", "plist-key-string", f"  <string>{tk.openrouter()}</string>")
    f.t("</dict>\n</plist>")
    files.append(f)

    f = File("holdout3/android/res/values/secrets.xml")
    f.t("<resources>")
    f.p("Sentry", "sentry-legacy-token", "android-string", f"    <string name=\"sentry_auth_token\">{tk.hex(64)}</string>")
    f.p("Railway", "railway-token", "android-string", f"    <string name=\"railway_token\">{tk.uuid()}</string>")
    f.p("Supabase", "supabase-service-role-jwt", "android-string", f"    <string name=\"supabase_key\">{tk.supabase_jwt('service_role')}</string>")
    f.n("Supabase", "supabase-anon-jwt", "android-string", f"    <string name=\"supabase_anon_key\">{tk.supabase_jwt('anon')}</string>")
    f.t("</resources>")
    files.append(f)

    f = File("holdout3/app/settings.py")
    f.p("Railway", "railway-token", "python-dict-section", f"INTEGRATIONS = {{\"railway\": {{\"token\": \"{tk.uuid()}\"}}, \"debug\": False}}")
    f.p("Upstash", "upstash-qstash-signing-key", "python-dict", f"QSTASH = {{\"current_signing_key\": \"{tk.qstash_sig()}\"}}  # qstash")
    files.append(f)


def build(outdir, seed):
    r = random.Random(seed)
    tk = Tok(r)
    files = []

    # Helm values (nested YAML, env lists, secretKeyRef references).
    f = File("charts/api/values.yaml")
    f.t("replicaCount: 2\nimage:\n  repository: ghcr.io/acme/api\n  tag: \"1.8.0\"\nenv:\n  plain:")
    for prov, rule, keys, v in priority_set(tk):
        f.p(prov, rule, "helm-env", style("helm", keys[0], v))
    for prov, what, key, v in negatives(tk, "helm"):
        f.n(prov, what, "helm-env", style("helm", key, v))
    f.t("  fromSecrets:")
    f.n("Railway", "secret-reference", "helm-secretKeyRef", "    - name: RAILWAY_TOKEN\n      valueFrom:\n        secretKeyRef: {name: railway, key: token}")
    f.n("Vercel", "template-reference", "helm-template", "    VERCEL_TOKEN: {{ .Values.vercel.token | quote }}")
    f.t("sentry:\n  enabled: true")
    f.p("Sentry", "sentry-legacy-token", "helm-nested-key", f"  authToken: {tk.hex(64)}")
    f.t("upstash:")
    f.p("Upstash", "upstash-redis-rest-token", "helm-nested-key", f"  restToken: {tk.upstash_v1(r.randint(2000, 65000))}")
    files.append(f)

    # .npmrc
    f = File(".npmrc")
    f.t("@acme:registry=https://npm.pkg.github.com\nalways-auth=true")
    f.p("npm", "npm-token", "npmrc", "//registry.npmjs.org/:_authToken=npm_" + tk.s(ALNUM, 36))
    f.p("GitHub", "github-token", "npmrc", "//npm.pkg.github.com/:_authToken=" + tk.github())
    f.n("npm", "env-reference", "npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}")
    f.p("npm", "npm-token", "npmrc-auth-base64", "//registry.acme.internal/:_auth=" + base64.b64encode(("deploy:npm_" + tk.s(ALNUM, 36)).encode()).decode(), layer="npmrc-auth")
    files.append(f)

    # Shell scripts: curl -H headers, CLI flags, env prefixes.
    f = File("bin/smoke-test.sh")
    f.t("#!/usr/bin/env bash\nset -euo pipefail")
    f.p("OpenRouter", "openrouter-api-key", "curl-header", f"curl -fsS https://openrouter.ai/api/v1/chat/completions -H \"Authorization: Bearer {tk.openrouter()}\" -d @req.json")
    f.p("Railway", "railway-access-token-header", "curl-header", f"curl -fsS https://backboard.railway.com/graphql/v2 -H 'Project-Access-Token: {tk.uuid()}' -d @q.json")
    f.p("Railway", "railway-access-token-header", "curl-header", f"curl -fsS https://backboard.railway.com/graphql/v2 --header \"Team-Access-Token: {tk.uuid()}\"")
    db = r.randint(2000, 65000)
    f.p("Upstash", "upstash-redis-rest-token", "curl-header-upstash-host", f"curl https://{tk.upstash_host(db)}/set/foo/bar -H \"Authorization: Bearer {tk.upstash_v1(db)}\"")
    f.p("Upstash", "upstash-qstash-token", "curl-header", f"curl -X POST \"https://qstash.upstash.io/v2/publish/https://api.acme.dev/jobs\" -H \"Authorization: Bearer {tk.qstash()}\"")
    f.p("Sentry", "sentry-user-token", "curl-header", f"curl https://sentry.io/api/0/projects/ -H 'Authorization: Bearer {tk.sentry_user()}'")
    f.p("Supabase", "supabase-service-role-jwt", "curl-header", f"curl \"https://{tk.s(LOWER, 20)}.supabase.co/rest/v1/users\" -H \"apikey: {tk.supabase_jwt('service_role')}\"")
    f.n("Supabase", "supabase-anon-jwt", "curl-header", f"curl \"https://{tk.s(LOWER, 20)}.supabase.co/rest/v1/todos\" -H \"apikey: {tk.supabase_jwt('anon')}\"")
    f.p("Vercel", "vercel-token", "cli-flag", f"vercel --prod --token {tk.vercel('vcp_')} --yes")
    f.p("Supabase", "supabase-pat", "cli-env-prefix", f"SUPABASE_ACCESS_TOKEN={tk.sbp()} supabase functions deploy hello")
    f.p("Sentry", "sentry-org-token", "cli-env-prefix", f"SENTRY_AUTH_TOKEN={tk.sentry_org()} npx @sentry/wizard -i sourcemaps")
    f.p("Railway", "railway-token", "cli-env-prefix", f"RAILWAY_TOKEN={tk.uuid()} railway run npm start")
    f.n("OpenRouter", "env-reference", "curl-header", "curl https://openrouter.ai/api/v1/models -H \"Authorization: Bearer ${OPENROUTER_API_KEY}\"")
    f.n("Railway", "env-reference", "curl-header", "curl https://backboard.railway.com/graphql/v2 -H \"Project-Access-Token: $RAILWAY_TOKEN\"")
    for _ in range(8):
        prov, rule, key, v = tk.common()
        f.p(prov, rule, "shell-export", f"export {key}=\"{v}\"")
    f.nl = False
    files.append(f)

    # Dockerfile ARG/ENV.
    f = File("Dockerfile")
    f.t("# syntax=docker/dockerfile:1.7")
    f.n("Generic", "docker-digest", "dockerfile", f"FROM node:20-alpine@sha256:{tk.hex(64)} AS build")
    f.n("Sentry", "build-arg-no-value", "dockerfile", "ARG SENTRY_AUTH_TOKEN")
    f.n("Vercel", "env-reference", "dockerfile", "ENV VERCEL_TOKEN=${VERCEL_TOKEN}")
    for i, (prov, rule, keys, v) in enumerate(priority_set(tk)):
        f.p(prov, rule, "dockerfile-" + ("arg" if i % 3 == 0 else "env"), style("dockerarg" if i % 3 == 0 else "dockerfile", keys[0], v))
    f.t("RUN --mount=type=secret,id=npm npm ci\nCMD [\"node\", \"server.js\"]")
    files.append(f)

    # Java properties.
    f = File("src/main/resources/application-prod.properties")
    f.t("server.port=8080\nspring.application.name=billing")
    for prov, rule, keys, v in priority_set(tk):
        key = next((k for k in keys if "." in k), keys[0])
        f.p(prov, rule, "java-properties", style("properties", key, v))
    for prov, what, key, v in negatives(tk, "properties"):
        f.n(prov, what, "java-properties", style("properties", key, v))
    f.n("Sentry", "env-reference", "java-properties", "sentry.auth.token=${SENTRY_AUTH_TOKEN}")
    files.append(f)

    # C# appsettings.json (CRLF) and a C# constants class.
    f = File("src/Api/appsettings.Production.json", crlf=True)
    f.t("{\n  \"Logging\": { \"LogLevel\": { \"Default\": \"Information\" } },\n  \"Secrets\": {")
    for prov, rule, keys, v in priority_set(tk):
        f.p(prov, rule, "appsettings", style("appsettings", keys[0], v))
    for prov, what, key, v in negatives(tk, "appsettings"):
        f.n(prov, what, "appsettings", style("appsettings", key, v))
    f.t("    \"_\": null\n  },\n  \"Railway\": {")
    f.p("Railway", "railway-token", "appsettings-nested-key", f"    \"Token\": \"{tk.uuid()}\"")
    f.t("  },\n  \"ConnectionStrings\": {")
    f.p("Supabase", "supabase-db-url", "appsettings-connstring", f"    \"Default\": \"{tk.supabase_db(pooler=True)}\"")
    f.n("Database", "local-default", "appsettings-connstring", "    \"Local\": \"Host=localhost;Username=postgres;Password=postgres\"")
    f.t("  }\n}")
    files.append(f)

    f = File("src/Api/Secrets.cs")
    f.t("namespace Acme.Api;\n\npublic static class Secrets\n{")
    for prov, rule, keys, v in priority_set(tk)[::2]:
        f.p(prov, rule, "csharp-const", style("csharp", keys[0], v))
    f.t("}")
    files.append(f)

    # Kotlin.
    f = File("app/src/main/kotlin/com/acme/BuildSecrets.kt")
    f.t("package com.acme\n\nobject BuildSecrets {")
    for prov, rule, keys, v in priority_set(tk):
        f.p(prov, rule, "kotlin-val", style("kotlin", keys[0], v))
    camel_key = "sentryAuthToken"
    f.p("Sentry", "sentry-user-token", "kotlin-typed", f"    const val {camel_key}: String = \"{tk.sentry_user()}\"")
    f.p("Railway", "railway-token", "kotlin-typed", f"    const val RAILWAY_TOKEN: String = \"{tk.uuid()}\"")
    f.n("Railway", "env-reference", "kotlin", "    val railwayToken: String = System.getenv(\"RAILWAY_TOKEN\") ?: \"\"")
    f.t("}")
    files.append(f)

    # PHP (Laravel config arrays, define()).
    f = File("config/services.php")
    f.t("<?php\n\nreturn [")
    for prov, rule, keys, v in priority_set(tk):
        f.p(prov, rule, "php-array", style("php", keys[0], v))
    f.n("Generic", "env-reference", "php", "    'stripe_secret' => env('STRIPE_SECRET'),")
    f.n("Supabase", "env-reference", "php", "    'supabase_key' => env('SUPABASE_SERVICE_ROLE_KEY', ''),")
    f.t("];")
    f.p("OpenRouter", "openrouter-api-key", "php-define", f"define('OPENROUTER_API_KEY', '{tk.openrouter()}');")
    f.p("Railway", "railway-token", "php-define", f"define('RAILWAY_TOKEN', '{tk.uuid()}');")
    files.append(f)

    f = File(".env.php.example")
    f.t("# Laravel example: placeholders only")
    f.n(ENC, "placeholder", "env-example", "APP_KEY=")
    f.n(ENC, "placeholder", "env-example", "APP_KEY=base64:REPLACE_WITH_php_artisan_key_generate")
    f.n("Upstash", "placeholder", "env-example", "UPSTASH_REDIS_REST_TOKEN=AXxxACQgxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
    f.n("Railway", "placeholder", "env-example", "RAILWAY_TOKEN=<railway-token>")
    f.n("Sentry", "placeholder", "env-example", "SENTRY_AUTH_TOKEN=sntrys_...")
    files.append(f)

    # Ruby (Rails initializer, ENV fallbacks).
    f = File("config/initializers/secrets.rb")
    f.t("Rails.application.configure do")
    for prov, rule, keys, v in priority_set(tk):
        f.p(prov, rule, "ruby-config", style("ruby", keys[0], v))
    f.t("end")
    f.p("Supabase", "supabase-secret-key", "ruby-env-fallback", f"SUPABASE_KEY = ENV.fetch(\"SUPABASE_SECRET_KEY\", \"{tk.sb_secret()}\")")
    f.n("Supabase", "env-reference", "ruby", "SUPABASE_URL = ENV.fetch(\"SUPABASE_URL\")")
    files.append(f)

    # Swift.
    f = File("ios/Acme/Secrets.swift")
    f.t("enum Secrets {")
    for prov, rule, keys, v in priority_set(tk)[1::2]:
        f.p(prov, rule, "swift-let", style("swift", keys[0], v))
    f.n("Supabase", "supabase-anon-jwt", "swift-let", f"    static let supabase_anon_key = \"{tk.supabase_jwt('anon')}\"")
    f.t("}")
    files.append(f)

    # INI, Makefile, tfvars.
    for path, kind in (("deploy/settings.ini", "ini"), ("Makefile", "makefile"), ("infra/prod.auto.tfvars", "tfvars")):
        f = File(path)
        f.t({"ini": "[production]", "makefile": ".PHONY: deploy", "tfvars": "# prod"}[kind])
        for prov, rule, keys, v in priority_set(tk):
            f.p(prov, rule, kind, style(kind, keys[0], v))
        for prov, what, key, v in negatives(tk, kind)[::2]:
            f.n(prov, what, kind, style(kind, key, v))
        if kind == "makefile":
            f.t("deploy:\n\tvercel deploy --prod --token $(VERCEL_TOKEN)")
        files.append(f)

    # Application logs: URLs with tokens, logged headers, request IDs, commit SHAs.
    f = File("logs/api-2025-03-14.log")
    for i in range(40):
        ts = f"2025-03-14T10:{i:02d}:{r.randint(0, 59):02d}.{r.randint(0, 999):03d}Z"
        roll = i % 10
        if roll == 0:
            f.p("Upstash", "upstash-qstash-token", "log-query-param", f"{ts} INFO  POST /api/cron?qstash_token={tk.qstash()} 200 12ms")
        elif roll == 1:
            f.n("Railway", "request-id", "log", f"{ts} INFO  request_id={tk.uuid()} deployment={tk.uuid()} status=200")
        elif roll == 2:
            f.p("OpenRouter", "openrouter-api-key", "log-header", f"{ts} DEBUG outgoing headers={{'Authorization': 'Bearer {tk.openrouter()}', 'X-Title': 'acme'}}")
        elif roll == 3:
            f.n("Git", "git-sha", "log", f"{ts} INFO  deployed commit {tk.hex(40)} ({tk.hex(7)})")
        elif roll == 4:
            db = r.randint(2000, 65000)
            f.p("Upstash", "upstash-redis-url", "log-connection", f"{ts} WARN  redis reconnect url=rediss://default:{tk.upstash_v1(db)}@{tk.upstash_host(db)}:6379 attempt=2")
        elif roll == 5:
            f.p("Supabase", "supabase-db-url", "log-connection", f"{ts} ERROR could not connect: {tk.supabase_db()} (timeout)")
        elif roll == 6:
            f.n("Sentry", "sentry-dsn-public", "log", f"{ts} INFO  sentry initialised dsn={tk.sentry_dsn_public()}")
        elif roll == 7:
            prov, rule, key, v = tk.common()
            f.p(prov, rule, "log-env-dump", f"{ts} DEBUG env {key}={v}")
        elif roll == 8:
            f.n("Generic", "trace-id", "log", f"{ts} INFO  trace={tk.hex(32)} span={tk.hex(16)}")
        else:
            f.p("Vercel", "vercel-token", "log-header", f"{ts} DEBUG vercel api call token={tk.vercel()} team=team_{tk.s(ALNUM, 24)}")
    files.append(f)

    # PEM keys in a Kotlin raw string, and a public key.
    f = File("app/src/main/kotlin/com/acme/Keys.kt")
    f.t("package com.acme\n\nconst val SIGNING_KEY_PEM = \"\"\"")
    f.p("Private key", "private-key", "pem-kotlin-raw-string", "\n".join(tk.pem("EC PRIVATE KEY", 120)))
    f.t("\"\"\"\n\nconst val VERIFY_KEY_PEM = \"\"\"")
    f.n("Private key", "public-key", "pem-public", "\n".join(tk.pem("PUBLIC KEY", 90)))
    f.t("\"\"\"")
    files.append(f)

    # composer.lock and packages.lock.json hashes, SHA256SUMS.
    f = File("composer.lock")
    f.t("{\n    \"packages\": [")
    for name in ("guzzlehttp/guzzle", "laravel/framework", "sentry/sentry-laravel"):
        f.t(f"        {{\n            \"name\": \"{name}\",\n            \"dist\": {{\n                \"type\": \"zip\",")
        f.n("Hash", "lockfile-hash", "composer-lock", f"                \"shasum\": \"{tk.hex(40)}\",")
        f.n("Git", "git-sha", "composer-lock", f"                \"reference\": \"{tk.hex(40)}\"")
        f.t("            }\n        },")
    f.t("        {}\n    ]\n}")
    files.append(f)

    f = File("src/Api/packages.lock.json")
    f.t("{\n  \"version\": 1,\n  \"dependencies\": {\n    \"net8.0\": {")
    for name in ("Sentry.AspNetCore", "Supabase", "StackExchange.Redis"):
        f.t(f"      \"{name}\": {{\n        \"type\": \"Direct\",\n        \"resolved\": \"4.1.0\",")
        f.n("Hash", "lockfile-hash", "nuget-lock", f"        \"contentHash\": \"{base64.b64encode(tk.raw(64)).decode()}\"")
        f.t("      },")
    f.t("      \"_\": {}\n    }\n  }\n}")
    files.append(f)

    f = File("dist/SHA256SUMS")
    for name in ("api-linux-amd64", "api-darwin-arm64", "api-windows-amd64.exe"):
        f.n("Hash", "checksum", "sha256sums", f"{tk.hex(64)}  {name}")
    files.append(f)

    # Markdown runbook: docs placeholders, an SVG/PNG data URI, a leaked key.
    f = File("docs/runbook.md")
    f.t("# Runbook\n\n## Rotating credentials\n")
    f.n("Upstash", "placeholder", "markdown", "1. Set `UPSTASH_REDIS_REST_TOKEN=AX...` in Vercel.")
    f.n("Supabase", "placeholder", "markdown", "2. Put the key in `SUPABASE_SERVICE_ROLE_KEY=<service_role key>`.")
    f.n("Vercel", "placeholder", "markdown", "3. Run `vercel env add VERCEL_TOKEN` and paste `vcp_xxxxxxxx`.")
    f.n("Image", "base64-image", "markdown-data-uri", "![logo](data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + tk.raw(300)).decode() + ")")
    f.t("\nThe old key that leaked in #4312 (rotated):\n")
    f.p("OpenRouter", "openrouter-api-key", "markdown-inline-code", f"`{tk.openrouter()}`")
    f.n("Stripe", "stripe-publishable-key", "markdown", f"Publishable key for the demo: `pk_test_{tk.s(ALNUM, 99)}`")
    files.append(f)

    # A test fixture file with marked fake values.
    f = File("spec/fixtures/credentials_spec.rb")
    f.t("RSpec.describe SecretScanner do")
    f.n("Sentry", "marked-fixture", "allow-marker", f"  let(:token) {{ \"{tk.sentry_user()}\" }} # gitleaks:allow")
    f.n("Vercel", "marked-fixture", "allow-marker", f"  let(:vercel) {{ \"{tk.vercel()}\" }} # gitleaks:allow")
    f.n("OpenRouter", "marked-fixture", "allow-marker", f"  let(:router) {{ \"{tk.openrouter()}\" }} # warden:allow")
    f.t("end")
    files.append(f)

    # Non-secrets with secret-looking names or shapes.
    f = File("ops/platform.ini")
    f.t("[runtime]")
    for prov, what, line in [
        ("Railway", "replica-id", f"railway_replica_id = {tk.uuid()}"),
        ("Railway", "static-url", f"railway_static_url = web-production-{tk.s(LOWER + DIGITS, 4)}.up.railway.app"),
        ("Railway", "token-name", "railway_token_description = github actions deploy"),
        ("Vercel", "deployment-url", f"vercel_branch_url = web-git-main-{tk.s(LOWER, 6)}.vercel.app"),
        ("Vercel", "deployment-id", f"vercel_deployment_id = dpl_{tk.s(ALNUM, 28)}"),
        ("Sentry", "trace", f"sentry_trace_id = {tk.hex(32)}"),
        ("Sentry", "project-slug", "sentry_project = checkout-web"),
        ("Upstash", "database-name", "upstash_database = cache-eu"),
        ("Supabase", "project-ref", f"supabase_project_id = {tk.s(LOWER, 20)}"),
        (ENC, "key-arn", f"encryption_key_arn = arn:aws:kms:eu-west-1:{tk.s(DIGITS, 12)}:key/{tk.uuid()}"),
        (ENC, "key-path", "encryption_key_path = /etc/acme/keys/data.key"),
        (ENC, "key-rotation", "encryption_key_rotation_days = 90"),
        ("Generic", "correlation-id", f"correlation_id = {tk.uuid()}"),
        ("Generic", "etag", f"etag = W/\"{tk.hex(32)}\""),
    ]:
        f.n(prov, what, "lookalike-ini", line)
    files.append(f)

    f = File("web/static/app.min.css")
    f.n("Image", "base64-image", "css-data-uri", ".logo{background:url(data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + tk.raw(500)).decode() + ")}")
    f.n("Image", "base64-font", "css-data-uri", "@font-face{font-family:x;src:url(data:font/woff2;base64," + base64.b64encode(tk.raw(700)).decode() + ")}")
    files.append(f)

    # Legacy .env of another service: common credential types.
    f = File("services/legacy/.env.local")
    for _ in range(30):
        prov, rule, key, v = tk.common()
        f.p(prov, rule, "env-common", f"{key}={v}")
    files.append(f)

    holdout(tk, files)
    holdout2(tk, files)
    holdout3(tk, files)

    # Write.
    root = os.path.join(outdir, "files")
    labels = []
    for f in files:
        p = os.path.join(root, f.path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as out:
            out.write(f.data())
        labels.extend(f.labels)
    with open(os.path.join(outdir, "labels.json"), "w") as out:
        json.dump({"corpus": "independent", "seed": seed, "labels": labels}, out, indent=1)
    npos = sum(1 for l in labels if l["label"] == "positive")
    print(f"independent_corpus: {len(files)} files, {npos} positives, {len(labels) - npos} hard negatives in {root}", file=sys.stderr)


def main():
    args = sys.argv[1:]
    seed = 7
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1:
        raise SystemExit("usage: independent_corpus.py OUTDIR [--seed N]")
    build(args[0], seed)


if __name__ == "__main__":
    main()
