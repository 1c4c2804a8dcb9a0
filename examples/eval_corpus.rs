//! Generates warden's labelled evaluation corpus: realistic files of many kinds with fake,
//! format-valid credentials in varied contexts (positives) and the values that must never be
//! reported (hard negatives), plus `labels.json`. Every token comes from the seeded template
//! generator, so nothing format-valid is committed.
//!
//! ```sh
//! cargo run --release --example eval_corpus -- OUTDIR --seed 7
//! ```
//!
//! Writes `OUTDIR/files/**` (the tree to scan) and `OUTDIR/labels.json`:
//! `{"corpus", "seed", "labels": [{path, line, end_line, provider, rule, label, context,
//! layer}]}` with `label` = `positive` | `negative`, lines 1-based, `end_line` for blocks
//! (PEM keys). `layer` names the decoding a scanner needs to see the value (`base64`,
//! `json-escape`, `percent`, `utf16`, `npmrc-auth`), or is null.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use warden::rules::template::{expand, Rng};
use warden::rules::RuleSet;

/// One labelled line (or block of lines).
struct Label {
    path: String,
    line: usize,
    end_line: usize,
    provider: String,
    rule: String,
    positive: bool,
    context: String,
    layer: Option<&'static str>,
}

/// How a file is written to disk.
#[derive(Clone, Copy, PartialEq)]
enum Enc {
    Lf,
    Crlf,
    Utf16,
}

/// A file being built line by line, with its labels.
struct Doc {
    path: String,
    lines: Vec<String>,
    labels: Vec<Label>,
    enc: Enc,
    final_newline: bool,
}

impl Doc {
    fn new(path: &str) -> Self {
        Doc { path: path.into(), lines: vec![], labels: vec![], enc: Enc::Lf, final_newline: true }
    }
    fn enc(mut self, enc: Enc) -> Self {
        self.enc = enc;
        self
    }
    /// Unlabelled text (may hold several lines).
    fn text(&mut self, s: &str) {
        self.lines.extend(s.split('\n').map(str::to_string));
    }
    fn labelled(&mut self, positive: bool, provider: &str, rule: &str, ctx: &str, s: &str) {
        let line = self.lines.len() + 1;
        self.text(s);
        self.labels.push(Label {
            path: self.path.clone(),
            line,
            end_line: self.lines.len(),
            provider: provider.into(),
            rule: rule.into(),
            positive,
            context: ctx.into(),
            layer: None,
        });
    }
    fn pos(&mut self, provider: &str, rule: &str, ctx: &str, s: &str) {
        self.labelled(true, provider, rule, ctx, s);
    }
    fn neg(&mut self, provider: &str, what: &str, ctx: &str, s: &str) {
        self.labelled(false, provider, what, ctx, s);
    }
    /// Marks the last label as needing a decoding layer.
    fn layer(&mut self, layer: &'static str) {
        if let Some(l) = self.labels.last_mut() {
            l.layer = Some(layer);
        }
    }
    fn bytes(&self) -> Vec<u8> {
        let sep = if self.enc == Enc::Crlf { "\r\n" } else { "\n" };
        let mut s = self.lines.join(sep);
        if self.final_newline {
            s.push_str(sep);
        }
        match self.enc {
            Enc::Utf16 => {
                let mut out = vec![0xFF, 0xFE];
                let crlf = s.replace('\n', "\r\n");
                out.extend(crlf.encode_utf16().flat_map(u16::to_le_bytes));
                out
            }
            _ => s.into_bytes(),
        }
    }
}

/// A credential type: the rule that should find it, a value template and key names that
/// bind it (context rules need one; prefixed ones read naturally with one).
struct Kind {
    rule: &'static str,
    provider: &'static str,
    tmpl: &'static str,
    keys: &'static [&'static str],
    /// Found by its value alone (a prefix or a decodable structure).
    bare: bool,
}

const fn k(
    rule: &'static str,
    provider: &'static str,
    tmpl: &'static str,
    keys: &'static [&'static str],
    bare: bool,
) -> Kind {
    Kind { rule, provider, tmpl, keys, bare }
}

const ENC: &str = "Encryption keys";

/// Every credential type of the spec, priority providers first.
const KINDS: &[Kind] = &[
    k("sentry-org-token", "Sentry", "sntrys_%{sentry-org-payload}_%{b64:43}", &["SENTRY_AUTH_TOKEN", "sentryAuthToken"], true),
    k("sentry-user-token", "Sentry", "sntryu_%{hex:64}", &["SENTRY_AUTH_TOKEN", "SENTRY_TOKEN"], true),
    k("sentry-dsn-secret", "Sentry", "https://%{hex:32}:%{hex:32}@sentry.io/%{digits:6}", &["SENTRY_DSN", "sentryDsn"], true),
    k("sentry-legacy-token", "Sentry", "%{hex:64}", &["SENTRY_AUTH_TOKEN", "sentry_token", "SENTRY_API_TOKEN", "sentryToken"], false),
    k("vercel-token", "Vercel", "vcp_%{b64url:50}%{alnum:6}", &["VERCEL_TOKEN", "vercelToken"], true),
    k("vercel-token", "Vercel", "%{crc62:vck_:56}", &["AI_GATEWAY_API_KEY", "VERCEL_AI_KEY"], true),
    k("vercel-token", "Vercel", "%{crc62:vci_:56}", &["VERCEL_INTEGRATION_TOKEN"], true),
    k("vercel-legacy-token", "Vercel", "%{alnum:24}", &["VERCEL_TOKEN", "vercel_api_key", "VERCEL_AUTH_TOKEN", "vercelToken"], false),
    k("railway-token", "Railway", "%{uuid4}", &["RAILWAY_TOKEN", "RAILWAY_API_TOKEN", "railwayToken", "railway_api_key"], false),
    k("upstash-redis-rest-token", "Upstash", "%{upstash-v1:DB}", &["UPSTASH_REDIS_REST_TOKEN", "upstashRedisToken", "UPSTASH_REDIS_PASSWORD"], false),
    k("upstash-redis-rest-token", "Upstash", "%{upstash-v1-uuid:DB}", &["UPSTASH_REDIS_REST_TOKEN", "UPSTASH_TOKEN"], false),
    k("upstash-redis-token-v2", "Upstash", "%{upstash-v2:DB}", &["UPSTASH_REDIS_REST_TOKEN", "REDIS_TOKEN"], true),
    k("upstash-redis-url", "Upstash", "rediss://default:%{upstash-v1:DB}@ample-fox-12345.upstash.io:6379", &["REDIS_URL", "UPSTASH_REDIS_URL"], true),
    k("upstash-qstash-token", "Upstash", "%{qstash}", &["QSTASH_TOKEN", "qstashToken"], true),
    k("upstash-qstash-signing-key", "Upstash", "sig_%{base58:28}", &["QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY"], false),
    k("upstash-management-api-key", "Upstash", "%{uuid4}", &["UPSTASH_MANAGEMENT_API_KEY", "UPSTASH_API_KEY"], false),
    k("upstash-service-token", "Upstash", "%{upstash-v1:DB}", &["UPSTASH_VECTOR_REST_TOKEN", "UPSTASH_SEARCH_REST_TOKEN"], false),
    k("supabase-secret-key", "Supabase", "sb_secret_%{b64url:22}_%{alnum:8}", &["SUPABASE_SECRET_KEY", "supabaseSecretKey"], true),
    k("supabase-service-role-jwt", "Supabase", "%{jwt:supabase:service_role}", &["SUPABASE_SERVICE_ROLE_KEY", "serviceRoleKey"], true),
    k("supabase-pat", "Supabase", "sbp_%{hex:40}", &["SUPABASE_ACCESS_TOKEN"], true),
    k("supabase-pat-variant", "Supabase", "sbp_%{alnum:48}", &["SUPABASE_ACCESS_TOKEN"], true),
    k("supabase-db-url", "Supabase", "postgresql://postgres:%{alnum:18}@db.%{lower:20}.supabase.co:5432/postgres", &["DATABASE_URL", "SUPABASE_DB_URL"], true),
    k("supabase-db-url", "Supabase", "postgresql://postgres.%{lower:20}:%{alnum:20}@aws-0-us-east-1.pooler.supabase.com:6543/postgres", &["DIRECT_URL", "POOLER_URL"], true),
    k("supabase-jwt-secret", "Supabase", "%{b64:40}", &["SUPABASE_JWT_SECRET", "JWT_SECRET", "GOTRUE_JWT_SECRET"], false),
    k("openrouter-api-key", "OpenRouter", "sk-or-v1-%{hex:64}", &["OPENROUTER_API_KEY", "OPENAI_API_KEY", "openrouterKey"], true),
    k("openrouter-api-key-next", "OpenRouter", "sk-or-v2-%{hex:64}", &["OPENROUTER_API_KEY"], true),
    k("generic-encryption-key", ENC, "%{b64bytes:32}", &["ENCRYPTION_KEY", "DB_ENCRYPTION_KEY", "FIELD_ENCRYPTION_KEY", "MASTER_KEY"], false),
    k("generic-encryption-key", ENC, "%{hexbytes:32}", &["DATA_ENCRYPTION_KEY", "AES_KEY", "CIPHER_KEY"], false),
    k("generic-encryption-key", ENC, "%{b64urlbytes-padded:32}", &["FERNET_KEY"], false),
    k("generic-encryption-key", ENC, "base64:%{b64bytes:32}", &["APP_KEY"], false),
    k("generic-encryption-key", ENC, "%{alnum:40}", &["VAULT_ENC_KEY"], false),
    k("rails-master-key-env", ENC, "%{hex:32}", &["RAILS_MASTER_KEY"], false),
    k("age-secret-key", ENC, "AGE-SECRET-KEY-1%{bech32:58}", &["SOPS_AGE_KEY"], true),
    k("generic-secret", "Generic", "%{b64bytes:32}", &["NEXTAUTH_SECRET", "AUTH_SECRET", "SESSION_SECRET", "COOKIE_SECRET"], false),
    k("generic-secret", "Generic", "%{hexbytes:64}", &["SECRET_KEY_BASE"], false),
    k("generic-secret", "Generic", "%{alnum:48}", &["HMAC_KEY", "WEBHOOK_SIGNING_KEY"], false),
    // Common types (spec §10).
    k("aws-access-key-id", "AWS", "AKIA%{upper:16}", &["AWS_ACCESS_KEY_ID", "aws_access_key_id"], true),
    k("aws-secret-access-key", "AWS", "%{b64:40}", &["AWS_SECRET_ACCESS_KEY", "aws_secret_access_key", "awsSecretKey"], false),
    k("github-token", "GitHub", "%{crc62:ghp_:36}", &["GITHUB_TOKEN", "GH_TOKEN"], true),
    k("github-token", "GitHub", "%{crc62:ghs_:36}", &["GITHUB_APP_TOKEN"], true),
    k("github-fine-grained-pat", "GitHub", "github_pat_%{alnum:22}_%{alnum:59}", &["GITHUB_PAT"], true),
    k("gitlab-pat", "GitLab", "glpat-%{b64url:20}", &["GITLAB_TOKEN", "CI_TOKEN"], true),
    k("slack-bot-token", "Slack", "xoxb-%{digits:11}-%{digits:13}-%{alnum:24}", &["SLACK_BOT_TOKEN"], true),
    k("slack-webhook", "Slack", "https://hooks.slack.com/services/T%{upper:8}/B%{upper:10}/%{alnum:24}", &["SLACK_WEBHOOK_URL"], true),
    k("stripe-secret-key", "Stripe", "sk_live_51%{alnum:60}", &["STRIPE_SECRET_KEY", "stripeKey"], true),
    k("stripe-restricted-key", "Stripe", "rk_live_51%{alnum:60}", &["STRIPE_RESTRICTED_KEY"], true),
    k("stripe-webhook-secret", "Stripe", "whsec_%{alnum:32}", &["STRIPE_WEBHOOK_SECRET"], true),
    k("openai-api-key", "OpenAI", "sk-proj-%{b64url:74}T3BlbkFJ%{b64url:74}", &["OPENAI_API_KEY"], true),
    k("anthropic-api-key", "Anthropic", "sk-ant-api03-%{b64url:93}AA", &["ANTHROPIC_API_KEY"], true),
    k("google-api-key", "Google", "AIza%{b64url:35}", &["GOOGLE_API_KEY", "GEMINI_API_KEY"], true),
    k("npm-token", "npm", "npm_%{alnum:36}", &["NPM_TOKEN"], true),
    k("pypi-token", "PyPI", "pypi-AgEIcHlwaS5vcmc%{b64url:120}", &["PYPI_API_TOKEN", "TWINE_PASSWORD"], true),
    k("sendgrid-api-key", "SendGrid", "SG.%{b64url:22}.%{b64url:43}", &["SENDGRID_API_KEY"], true),
    k("telegram-bot-token", "Telegram", "%{digits:10}:AA%{b64url:33}", &["TELEGRAM_BOT_TOKEN", "TG_BOT_TOKEN"], false),
    k("jwt", "JWT", "%{jwt:acme-auth:user}", &["ACCESS_TOKEN", "API_JWT"], true),
    k("huggingface-token", "Hugging Face", "hf_%{alpha:34}", &["HF_TOKEN", "HUGGINGFACE_TOKEN"], true),
    k("groq-api-key", "Groq", "gsk_%{alnum:52}", &["GROQ_API_KEY"], true),
    k("digitalocean-token", "DigitalOcean", "dop_v1_%{hex:64}", &["DIGITALOCEAN_TOKEN"], true),
    k("shopify-token", "Shopify", "shpat_%{hex:32}", &["SHOPIFY_ACCESS_TOKEN"], true),
    k("databricks-token", "Databricks", "dapi%{hex:32}", &["DATABRICKS_TOKEN"], true),
    k("linear-api-key", "Linear", "lin_api_%{alnum:40}", &["LINEAR_API_KEY"], true),
    k("doppler-token", "Doppler", "dp.pt.%{alnum:43}", &["DOPPLER_TOKEN"], true),
    k("db-url", "Database", "postgres://app_user:%{alnum:22}@prod-db.%{lower:8}.internal:5432/app", &["DATABASE_URL", "PG_URL"], true),
    k("db-url", "Database", "mongodb+srv://svc:%{alnum:24}@cluster0.%{lowernum:5}.mongodb.net/app", &["MONGODB_URI"], true),
];

/// The generator: a seeded RNG, the files so far, and a DB number counter for Upstash.
struct Gen {
    rng: Rng,
    docs: Vec<Doc>,
}

/// How a key/value assignment is written in one kind of file.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    Env,
    EnvQuoted,
    EnvExport,
    Yaml,
    YamlQuoted,
    Json,
    TsConst,
    TsObject,
    Python,
    Go,
    Rust,
    Java,
    Terraform,
    Toml,
}

fn camel(key: &str) -> String {
    if !key.contains('_') {
        return key.to_string();
    }
    let mut out = String::new();
    for (i, w) in key.split('_').filter(|w| !w.is_empty()).enumerate() {
        let w = w.to_ascii_lowercase();
        if i == 0 {
            out.push_str(&w);
        } else {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.push(f.to_ascii_uppercase());
                out.push_str(c.as_str());
            }
        }
    }
    out
}

fn snake(key: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for ch in key.chars() {
        if ch.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        out.push(ch.to_ascii_lowercase());
    }
    out
}

fn upper(key: &str) -> String {
    snake(key).to_ascii_uppercase()
}

fn assign(style: Style, key: &str, v: &str) -> String {
    match style {
        Style::Env => format!("{}={v}", upper(key)),
        Style::EnvQuoted => format!("{}=\"{v}\"", upper(key)),
        Style::EnvExport => format!("export {}='{v}'", upper(key)),
        Style::Yaml => format!("  {}: {v}", upper(key)),
        Style::YamlQuoted => format!("  {}: \"{v}\"", snake(key)),
        Style::Json => format!("  \"{}\": \"{v}\",", upper(key)),
        Style::TsConst => format!("export const {} = \"{v}\";", upper(key)),
        Style::TsObject => format!("  {}: '{v}',", camel(key)),
        Style::Python => format!("{} = \"{v}\"", upper(key)),
        Style::Go => format!("\t{} := \"{v}\"", camel(key)),
        Style::Rust => format!("const {}: &str = \"{v}\";", upper(key)),
        Style::Java => format!("    private static final String {} = \"{v}\";", upper(key)),
        Style::Terraform => format!("  {} = \"{v}\"", snake(key)),
        Style::Toml => format!("{} = \"{v}\"", snake(key)),
    }
}

fn style_name(s: Style) -> &'static str {
    match s {
        Style::Env => "env",
        Style::EnvQuoted => "env-quoted",
        Style::EnvExport => "shell-export",
        Style::Yaml => "yaml",
        Style::YamlQuoted => "yaml-quoted",
        Style::Json => "json",
        Style::TsConst => "ts-const",
        Style::TsObject => "ts-object",
        Style::Python => "python",
        Style::Go => "go",
        Style::Rust => "rust-typed-const",
        Style::Java => "java",
        Style::Terraform => "terraform",
        Style::Toml => "toml",
    }
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

impl Gen {
    /// Expands a template; `DB` in an Upstash template becomes a fresh database number.
    fn x(&mut self, tmpl: &str) -> String {
        let t = if tmpl.contains(":DB}") {
            let db = self.rng.range(1000, 60000);
            tmpl.replace(":DB}", &format!(":{db}}}"))
        } else {
            tmpl.to_string()
        };
        expand(&t, &mut self.rng).expect("valid template")
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.rng.range(0, items.len() - 1)]
    }
    fn value(&mut self, kind: &Kind) -> String {
        self.x(kind.tmpl)
    }

    /// One positive for every kind, in one file, in the given style.
    fn all_kinds(&mut self, doc: &mut Doc, style: Style, header: &str, footer: &str) {
        doc.text(header);
        for kind in KINDS {
            let key = self.pick(kind.keys);
            let v = self.value(kind);
            doc.pos(kind.provider, kind.rule, style_name(style), &assign(style, key, &v));
        }
        if !footer.is_empty() {
            doc.text(footer);
        }
    }

    fn finish(&mut self, doc: Doc) {
        self.docs.push(doc);
    }

    // ---- hard negatives ------------------------------------------------------------------

    /// A block of hard negatives in `style` (public values, references, placeholders, IDs,
    /// digests, dev defaults, documented examples).
    fn negatives(&mut self, doc: &mut Doc, style: Style) {
        let ctx = style_name(style);
        let anon = self.x("%{jwt:supabase:anon}");
        let authd = self.x("%{jwt:supabase:authenticated}");
        let demo = self.x("%{jwt:supabase-demo:service_role}");
        let publishable = self.x("sb_publishable_%{b64url:22}_%{alnum:8}");
        let dsn = self.x("https://%{hex:32}@o%{digits:7}.ingest.us.sentry.io/%{digits:7}");
        let pk = self.x("pk_live_51%{alnum:60}");
        let pkt = self.x("pk_test_51%{alnum:60}");
        let prj = self.x("prj_%{alnum:28}");
        let team = self.x("team_%{alnum:24}");
        let sha40 = self.x("%{hex:40}");
        let sha64 = self.x("%{hex:64}");
        let r_proj = self.x("%{uuid4}");
        let r_svc = self.x("%{uuid4}");
        let r_env = self.x("%{uuid4}");
        let qdef = self.x("%{qstash:defaultUser:defaultPassword}");
        let db = self.rng.range(1000, 60000);
        let host = format!(
            "https://{}-{}-{db}.upstash.io",
            self.pick(&["ample", "prime", "noble"]),
            self.pick(&["fox", "owl", "cat"])
        );
        let reference = self.x("%{lower:20}");
        let negs: Vec<(&str, &str, &str, String)> = vec![
            ("Supabase", "supabase-anon-jwt", "NEXT_PUBLIC_SUPABASE_ANON_KEY", anon),
            ("Supabase", "supabase-authenticated-jwt", "SUPABASE_KEY", authd),
            ("Supabase", "supabase-demo-jwt", "SERVICE_ROLE_KEY", demo),
            ("Supabase", "supabase-publishable-key", "NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY", publishable),
            ("Supabase", "supabase-url", "SUPABASE_URL", format!("https://{reference}.supabase.co")),
            ("Supabase", "placeholder", "SUPABASE_SERVICE_ROLE_KEY", "your-service-role-key".into()),
            ("Supabase", "placeholder", "JWT_SECRET", "your-super-secret-jwt-token-with-at-least-32-characters-long".into()),
            ("Supabase", "placeholder", "DATABASE_URL", format!("postgresql://postgres:[YOUR-PASSWORD]@db.{reference}.supabase.co:5432/postgres")),
            ("Supabase", "local-default", "SUPABASE_DB_URL", "postgresql://postgres:postgres@127.0.0.1:54322/postgres".into()),
            ("Sentry", "sentry-dsn-public", "SENTRY_DSN", dsn),
            ("Sentry", "git-sha", "SENTRY_RELEASE", sha40.clone()),
            ("Sentry", "digest", "SENTRY_RELEASE_SHA", sha64.clone()),
            ("Sentry", "placeholder", "SENTRY_AUTH_TOKEN", "sntrys_...".into()),
            ("Stripe", "stripe-publishable-key", "STRIPE_PUBLISHABLE_KEY", pk),
            ("Stripe", "stripe-publishable-key", "NEXT_PUBLIC_STRIPE_KEY", pkt),
            ("Vercel", "vercel-project-id", "VERCEL_PROJECT_ID", prj),
            ("Vercel", "vercel-org-id", "VERCEL_ORG_ID", team),
            ("Vercel", "git-sha", "VERCEL_GIT_COMMIT_SHA", sha40),
            ("Vercel", "placeholder", "VERCEL_TOKEN", "vcp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into()),
            ("Railway", "railway-project-id", "RAILWAY_PROJECT_ID", r_proj),
            ("Railway", "railway-service-id", "RAILWAY_SERVICE_ID", r_svc),
            ("Railway", "railway-environment-id", "RAILWAY_ENVIRONMENT_ID", r_env),
            ("Upstash", "upstash-url", "UPSTASH_REDIS_REST_URL", host),
            ("Upstash", "placeholder", "UPSTASH_REDIS_REST_TOKEN", "AXxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into()),
            ("Upstash", "qstash-dev-default", "QSTASH_TOKEN", qdef),
            ("Upstash", "placeholder", "QSTASH_CURRENT_SIGNING_KEY", "sig_xxxxx".into()),
            ("OpenRouter", "placeholder", "OPENROUTER_API_KEY", "sk-or-v1-your_key_here".into()),
            ("OpenRouter", "placeholder", "OPENAI_API_KEY", "sk-or-v1-...".into()),
            (ENC, "placeholder", "ENCRYPTION_KEY", "changeme".into()),
            (ENC, "placeholder", "APP_KEY", "base64:your-app-key-here".into()),
            ("Generic", "placeholder", "SECRET_KEY", "django-insecure-change-me-in-production-please".into()),
            ("Generic", "digest", "ARTIFACT_SHA256", sha64),
        ];
        for (provider, what, key, v) in negs {
            doc.neg(provider, what, ctx, &assign(style, key, &v));
        }
    }

    /// References and placeholders for every kind's first key (env / secret references).
    fn references(&mut self, doc: &mut Doc, style: Style) {
        let ctx = style_name(style);
        let forms: &[&str] = match style {
            Style::Yaml | Style::YamlQuoted => {
                &["${{ secrets.KEY }}", "${KEY}", "{{ .Values.key }}"]
            }
            Style::Env | Style::EnvQuoted | Style::EnvExport => {
                &["${KEY}", "$KEY", "<your-key>", "xxxxxxxxxxxxxxxx", "changeme"]
            }
            _ => &["${KEY}", "<KEY>", "[KEY]", "%KEY%", "YOUR_TOKEN_HERE", "********"],
        };
        for (i, kind) in KINDS.iter().enumerate().step_by(2) {
            let key = kind.keys[0];
            let form = forms[i % forms.len()].replace("KEY", &upper(key));
            doc.neg(kind.provider, "reference", ctx, &assign(style, key, &form));
        }
    }
}

// ---- the files ------------------------------------------------------------------------------

fn env_files(g: &mut Gen) {
    let mut d = Doc::new(".env");
    g.all_kinds(
        &mut d,
        Style::Env,
        "# local overrides (do not commit)\nNODE_ENV=production\nPORT=3000",
        "",
    );
    g.negatives(&mut d, Style::Env);
    g.references(&mut d, Style::Env);
    // Railway IDs right next to a Railway token.
    let t = g.x("%{uuid4}");
    let p = g.x("%{uuid4}");
    let s = g.x("%{uuid4}");
    d.neg("Railway", "railway-project-id", "env-next-to-token", &format!("RAILWAY_PROJECT_ID={p}"));
    d.pos("Railway", "railway-token", "env-next-to-ids", &format!("RAILWAY_TOKEN={t}"));
    d.neg("Railway", "railway-service-id", "env-next-to-token", &format!("RAILWAY_SERVICE_ID={s}"));
    let v = g.x("sk-or-v1-%{hex:64}");
    d.pos(
        "OpenRouter",
        "openrouter-api-key",
        "last-line-no-newline",
        &format!("OPENROUTER_API_KEY={v}"),
    );
    d.final_newline = false;
    g.finish(d);

    let mut d = Doc::new("deploy/.env.production").enc(Enc::Crlf);
    g.all_kinds(&mut d, Style::EnvQuoted, "# production (CRLF)", "");
    g.negatives(&mut d, Style::EnvQuoted);
    g.finish(d);

    let mut d = Doc::new("scripts/env.sh");
    g.all_kinds(&mut d, Style::EnvExport, "#!/usr/bin/env bash\nset -euo pipefail", "");
    g.references(&mut d, Style::EnvExport);
    let last = g.x("%{uuid4}");
    d.pos(
        "Railway",
        "railway-token",
        "last-line-no-newline-crlf",
        &format!("export RAILWAY_API_TOKEN='{last}'"),
    );
    d.final_newline = false;
    d.enc = Enc::Crlf;
    g.finish(d);

    // .env.example: documented placeholders only.
    let mut d = Doc::new(".env.example");
    d.text("# copy to .env and fill in");
    g.references(&mut d, Style::Env);
    g.finish(d);
}

/// Non-secret values under secret-looking names, and secret-looking non-secrets.
fn lookalikes(g: &mut Gen) {
    let mut d = Doc::new("deploy/runtime.env");
    d.text("# injected by the platform at runtime (not secrets)");
    let lines = vec![
        (
            ENC,
            "kms-arn",
            format!(
                "ENCRYPTION_KEY_ARN=arn:aws:kms:us-east-1:{}:key/{}",
                g.x("%{digits:12}"),
                g.x("%{uuid4}")
            ),
        ),
        ("Generic", "file-path", "SECRET_KEY_FILE=/run/secrets/django_secret_key".to_string()),
        (ENC, "key-id", format!("APP_KEY_ID={}", g.x("%{uuid4}"))),
        (ENC, "key-version", format!("MASTER_KEY_VERSION={}", g.x("%{hex:40}"))),
        ("Generic", "algorithm", "SIGNING_KEY_ALGORITHM=HS256".to_string()),
        ("Sentry", "identifier", "SENTRY_ORG=acme-inc".to_string()),
        (
            "Sentry",
            "trace-header",
            format!("SENTRY_TRACE={}-{}-1", g.x("%{hex:32}"), g.x("%{hex:16}")),
        ),
        ("Vercel", "url", format!("VERCEL_URL=web-{}-acme.vercel.app", g.x("%{lowernum:9}"))),
        ("Vercel", "deployment-id", format!("VERCEL_DEPLOYMENT_ID=dpl_{}", g.x("%{alnum:28}"))),
        ("Vercel", "token-expiry", format!("VERCEL_TOKEN_EXPIRES_AT={}", g.x("%{digits:10}"))),
        (
            "Railway",
            "domain",
            format!("RAILWAY_PUBLIC_DOMAIN=api-production-{}.up.railway.app", g.x("%{lowernum:4}")),
        ),
        ("Railway", "replica-id", format!("RAILWAY_REPLICA_ID={}", g.x("%{uuid4}"))),
        ("Railway", "token-name", "RAILWAY_TOKEN_NAME=ci-deploy-production".to_string()),
        ("Upstash", "region", "UPSTASH_REDIS_REGION=eu-west-1".to_string()),
        ("Upstash", "database-id", format!("UPSTASH_DATABASE_ID={}", g.x("%{uuid4}"))),
        ("Supabase", "project-ref", format!("SUPABASE_PROJECT_REF={}", g.x("%{lower:20}"))),
        ("Supabase", "anon-key-name", format!("SUPABASE_ANON_KEY={}", g.x("%{jwt:supabase:anon}"))),
        ("Generic", "idempotency-key", format!("IDEMPOTENCY_KEY={}", g.x("%{uuid4}"))),
        ("Generic", "csp-hash", format!("CSP_SCRIPT_HASH='sha256-{}='", g.x("%{b64:43}"))),
        ("Generic", "commit", format!("SOURCE_COMMIT={}", g.x("%{hex:40}"))),
        ("Generic", "build-id", format!("BUILD_ID={}", g.x("%{lowernum:24}"))),
    ];
    for (provider, what, line) in lines {
        d.neg(provider, what, "lookalike", &line);
    }
    g.finish(d);

    let mut d = Doc::new("public/assets/app.js.map.js");
    let map = g.x("%{b64:800}");
    d.neg("Generic", "sourcemap-data-uri", "minified", &format!("console.log(1);\n//# sourceMappingURL=data:application/json;base64,eyJ2ZXJzaW9uIjozLCJzb3VyY2VzIjpb{map}"));
    g.finish(d);

    let mut d = Doc::new("infra/terraform.tfstate");
    d.text("{\n  \"version\": 4,\n  \"resources\": [");
    for _ in 0..4 {
        let id = g.x("%{uuid4}");
        let sha = g.x("%{hex:64}");
        d.neg(
            "Railway",
            "resource-id",
            "tfstate",
            &format!("    {{ \"type\": \"railway_service\", \"id\": \"{id}\" }},"),
        );
        d.neg(
            "Hash",
            "digest",
            "tfstate",
            &format!("    {{ \"type\": \"archive_file\", \"output_sha256\": \"{sha}\" }},"),
        );
    }
    d.text("    {}\n  ]\n}");
    g.finish(d);
}

fn code_files(g: &mut Gen) {
    // TypeScript config object + client code.
    let mut d = Doc::new("src/lib/config.ts");
    d.text("import { createClient } from '@supabase/supabase-js';\n\nexport const config = {");
    for kind in KINDS.iter().filter(|k| k.provider != "Generic" && k.provider != ENC) {
        let key = g.pick(kind.keys);
        let v = g.value(kind);
        d.pos(kind.provider, kind.rule, "ts-object", &assign(Style::TsObject, key, &v));
    }
    d.text("};\n");
    d.neg("Supabase", "env-reference", "ts", "export const supabase = createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_SERVICE_ROLE_KEY!);");
    let sk = g.x("sb_secret_%{b64url:22}_%{alnum:8}");
    d.pos(
        "Supabase",
        "supabase-secret-key",
        "ts-call-arg",
        &format!(
            "export const admin = createClient('https://{}.supabase.co', '{sk}');",
            g.x("%{lower:20}")
        ),
    );
    let vca = g.x("vca_%{b64url:50}%{alnum:6}");
    d.pos(
        "Vercel",
        "vercel-token",
        "http-header",
        &format!(
            "const res = await fetch(url, {{ headers: {{ Authorization: `Bearer {vca}` }} }});"
        ),
    );
    d.neg("Vercel", "template-reference", "http-header", "const res2 = await fetch(url, { headers: { Authorization: `Bearer ${process.env.VERCEL_TOKEN}` } });");
    let rt = g.x("%{uuid4}");
    d.pos(
        "Railway",
        "railway-access-token-header",
        "http-header-object",
        &format!("const railwayHeaders = {{ 'Project-Access-Token': '{rt}' }};"),
    );
    let anon = g.x("%{jwt:supabase:anon}");
    d.neg(
        "Supabase",
        "supabase-anon-jwt",
        "ts-call-arg",
        &format!("export const browser = createClient(SUPABASE_URL, '{anon}');"),
    );
    g.finish(d);

    let mut d = Doc::new("src/generated/keys.ts");
    g.all_kinds(&mut d, Style::TsConst, "// generated by scripts/sync-env.ts", "");
    g.negatives(&mut d, Style::TsConst);
    g.finish(d);

    // Minified bundle: long lines, negatives on their own line.
    let mut d = Doc::new("public/assets/index-4f9a2c.min.js");
    let dsn = g.x("https://%{hex:32}@o%{digits:6}.ingest.sentry.io/%{digits:7}");
    let anon = g.x("%{jwt:supabase:anon}");
    let publ = g.x("sb_publishable_%{b64url:22}_%{alnum:8}");
    let pk = g.x("pk_live_51%{alnum:60}");
    d.neg("Sentry", "public-values-minified", "minified", &format!("!function(){{var e=\"{dsn}\",t={{url:\"https://x.supabase.co\",anonKey:\"{anon}\",pub:\"{publ}\"}};window.__cfg={{sentry:e,sb:t,stripe:\"{pk}\"}}}}();"));
    let v = g.x("sk-or-v1-%{hex:64}");
    d.pos("OpenRouter", "openrouter-api-key", "minified", &format!("var n=function(){{return fetch(\"https://openrouter.ai/api/v1/chat/completions\",{{method:\"POST\",headers:{{Authorization:\"Bearer {v}\",\"Content-Type\":\"application/json\"}}}})}};export{{n as default}};"));
    let v = g.x("%{crc62:vck_:56}");
    d.pos("Vercel", "vercel-token", "minified", &format!("const a=\"{v}\",o=a=>a.map(r=>r*2);"));
    let v = g.x("%{jwt:supabase:service_role}");
    d.pos(
        "Supabase",
        "supabase-service-role-jwt",
        "minified",
        &format!("let s=Object.freeze({{k:\"{v}\",r:!0}});"),
    );
    d.final_newline = false;
    g.finish(d);

    let mut d = Doc::new("app/settings.py");
    d.text(
        "import os\nfrom pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent.parent",
    );
    d.neg("Generic", "env-reference", "python", "SECRET_KEY = os.getenv(\"SECRET_KEY\")");
    d.neg("Generic", "env-reference", "python", "DATABASE_URL = os.environ[\"DATABASE_URL\"]");
    g.all_kinds(&mut d, Style::Python, "", "DEBUG = False");
    g.finish(d);

    let mut d = Doc::new("cmd/server/main.go");
    d.text("package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc config() {");
    g.all_kinds(&mut d, Style::Go, "", "");
    d.neg("Railway", "env-reference", "go", "\ttoken := os.Getenv(\"RAILWAY_TOKEN\")");
    let rt = g.x("%{uuid4}");
    d.pos(
        "Railway",
        "railway-access-token-header",
        "go-header-set",
        &format!("\treq.Header.Set(\"Project-Access-Token\", \"{rt}\")"),
    );
    let rt = g.x("%{uuid4}");
    d.pos(
        "Railway",
        "railway-access-token-header",
        "go-header-set",
        &format!("\treq.Header.Set(\"Team-Access-Token\", \"{rt}\")"),
    );
    d.text("\t_ = http.DefaultClient\n}");
    g.finish(d);

    let mut d = Doc::new("crates/api/src/secrets.rs");
    d.text("//! Hard-coded for the demo; move to the vault.\n");
    g.all_kinds(&mut d, Style::Rust, "", "");
    d.neg(
        "Generic",
        "env-reference",
        "rust",
        "let key = std::env::var(\"ENCRYPTION_KEY\").expect(\"ENCRYPTION_KEY\");",
    );
    g.finish(d);

    let mut d = Doc::new("src/main/java/com/acme/Config.java");
    d.text("package com.acme;\n\npublic final class Config {");
    g.all_kinds(&mut d, Style::Java, "", "");
    d.neg(
        "Supabase",
        "env-reference",
        "java",
        "    static final String KEY = System.getenv(\"SUPABASE_SERVICE_ROLE_KEY\");",
    );
    d.text("}");
    g.finish(d);
}

fn yaml_files(g: &mut Gen) {
    // Kubernetes Secret: base64 `data:` (needs a decoding layer) and plain `stringData:`.
    let mut d = Doc::new("k8s/secret.yaml");
    d.text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secrets\ntype: Opaque\ndata:");
    for kind in KINDS.iter().step_by(3) {
        let key = kind.keys[0];
        let v = g.value(kind);
        d.pos(
            kind.provider,
            kind.rule,
            "k8s-data-base64",
            &format!("  {}: {}", upper(key), b64(&v)),
        );
        d.layer("base64");
    }
    let anon = g.x("%{jwt:supabase:anon}");
    d.neg(
        "Supabase",
        "supabase-anon-jwt",
        "k8s-data-base64",
        &format!("  SUPABASE_ANON_KEY: {}", b64(&anon)),
    );
    d.text("stringData:");
    for kind in KINDS.iter().skip(1).step_by(3) {
        let key = kind.keys[0];
        let v = g.value(kind);
        d.pos(kind.provider, kind.rule, "k8s-stringdata", &format!("  {}: \"{v}\"", upper(key)));
    }
    g.finish(d);

    // GitHub Actions: secret references everywhere, two literal leaks.
    let mut d = Doc::new(".github/workflows/deploy.yml");
    d.text("name: deploy\non:\n  push:\n    branches: [main]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:");
    g.references(&mut d, Style::Yaml);
    let rt = g.x("%{uuid4}");
    d.pos("Railway", "railway-token", "gha-env", &format!("      RAILWAY_TOKEN: {rt}"));
    d.text("    steps:\n      - uses: actions/checkout@v4");
    let st = g.x("sntryu_%{hex:64}");
    d.pos("Sentry", "sentry-user-token", "curl-header", &format!("      - run: curl -sf -H \"Authorization: Bearer {st}\" https://sentry.io/api/0/organizations/"));
    d.neg(
        "Vercel",
        "secret-reference",
        "cli-arg",
        "      - run: npx vercel deploy --prod --token ${{ secrets.VERCEL_TOKEN }}",
    );
    let vt = g.x("vcp_%{b64url:50}%{alnum:6}");
    d.pos(
        "Vercel",
        "vercel-token",
        "cli-arg",
        &format!("      - run: npx vercel deploy --prod --token={vt}"),
    );
    let sp = g.x("sbp_%{hex:40}");
    d.pos("Supabase", "supabase-pat", "cli-arg", &format!("      - run: supabase link --project-ref abc --password x && SUPABASE_ACCESS_TOKEN={sp} supabase db push"));
    g.finish(d);

    let mut d = Doc::new("docker-compose.yml");
    d.text("services:\n  api:\n    image: acme/api:latest\n    environment:");
    for kind in KINDS.iter().skip(2).step_by(3) {
        let key = kind.keys[0];
        let v = g.value(kind);
        d.pos(kind.provider, kind.rule, "compose-list", &format!("      - {}={v}", upper(key)));
    }
    d.neg(
        "Database",
        "local-default",
        "compose",
        "      - DATABASE_URL=postgres://postgres:postgres@localhost:5432/app",
    );
    d.neg(
        "Database",
        "local-default",
        "compose",
        "      - REDIS_URL=redis://default:redis@127.0.0.1:6379",
    );
    d.text("  db:\n    image: postgres:16");
    d.neg(
        "Database",
        "local-default",
        "compose",
        "    environment:\n      POSTGRES_PASSWORD: postgres",
    );
    let up = g.x("%{upstash-v1:38828}");
    d.pos(
        "Upstash",
        "upstash-redis-url",
        "url-embedded",
        &format!("      REDIS_URL: rediss://default:{up}@ample-fox-38828.upstash.io:6379"),
    );
    g.finish(d);

    let mut d = Doc::new("config/application.yml");
    g.all_kinds(&mut d, Style::YamlQuoted, "production:", "");
    g.negatives(&mut d, Style::YamlQuoted);
    // Nested sections: the parent key binds the child value.
    d.text("  railway:\n    enabled: true");
    let v = g.x("%{uuid4}");
    d.pos("Railway", "railway-token", "yaml-nested-key", &format!("    token: {v}"));
    d.text("  sentry:\n    dsn: ${SENTRY_DSN}");
    let v = g.x("%{hex:64}");
    d.pos("Sentry", "sentry-legacy-token", "yaml-nested-key", &format!("    auth_token: \"{v}\""));
    d.text("  upstash:");
    let v = g.x("%{upstash-v1:DB}");
    d.pos(
        "Upstash",
        "upstash-redis-rest-token",
        "yaml-nested-key",
        &format!("    rest_token: {v}"),
    );
    d.text("  railway_ids:");
    let v = g.x("%{uuid4}");
    d.neg("Railway", "railway-project-id", "yaml-nested-key", &format!("    project_id: {v}"));
    // Multi-line PEM in YAML (block scalar).
    let kb = g.x("%{pem-body}");
    let pem =
        format!("-----BEGIN {} PRIVATE KEY-----\n{kb}\n-----END {} PRIVATE KEY-----", "RSA", "RSA");
    let indented: String = pem.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
    d.pos("Private key", "private-key", "pem-yaml-block", &format!("  tls_key: |\n{indented}"));
    let pubk = g.x("%{pem-body}");
    d.neg(
        "Private key",
        "public-key",
        "pem-yaml-block",
        &format!(
            "  tls_pub: |\n    -----BEGIN PUBLIC KEY-----\n{}\n    -----END PUBLIC KEY-----",
            pubk.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
        ),
    );
    g.finish(d);
}

fn infra_files(g: &mut Gen) {
    let mut d = Doc::new("infra/main.tf");
    d.text("terraform {\n  required_version = \">= 1.6\"\n}\n\nlocals {");
    g.all_kinds(&mut d, Style::Terraform, "", "}");
    d.neg(
        "Vercel",
        "terraform-var",
        "terraform",
        "provider \"vercel\" {\n  api_token = var.vercel_token\n}",
    );
    let v = g.x("vcp_%{b64url:50}%{alnum:6}");
    d.pos(
        "Vercel",
        "vercel-token",
        "terraform-provider",
        &format!("provider \"vercel\" {{ api_token = \"{v}\" }}"),
    );
    g.finish(d);

    let mut d = Doc::new("config/settings.toml");
    g.all_kinds(&mut d, Style::Toml, "[app]\nname = \"api\"\n\n[secrets]", "");
    g.negatives(&mut d, Style::Toml);
    g.finish(d);

    let mut d = Doc::new("config/credentials.json");
    d.text("{");
    g.all_kinds(&mut d, Style::Json, "", "");
    g.negatives(&mut d, Style::Json);
    // PEM in JSON with \n escapes (GCP service account shape).
    let kb = g.x("%{pem-body}").replace('\n', "\\n");
    let email = g.x("svc-%{lower:6}@proj-%{lower:6}.iam.gserviceaccount.com");
    d.text("  \"gcp\": {\n    \"type\": \"service_account\",\n    \"project_id\": \"proj\",");
    d.pos(
        "Private key",
        "private-key",
        "pem-json-escaped",
        &format!(
            "    \"private_key\": \"-----BEGIN {} KEY-----\\n{kb}\\n-----END {} KEY-----\\n\",",
            "PRIVATE", "PRIVATE"
        ),
    );
    d.text(&format!("    \"client_email\": \"{email}\"\n  }},\n  \"_end\": true\n}}"));
    g.finish(d);

    let mut d = Doc::new("package.json");
    d.text("{\n  \"name\": \"web\",\n  \"version\": \"1.4.2\",\n  \"scripts\": {\n    \"dev\": \"next dev\",");
    let v = g.x("vcp_%{b64url:50}%{alnum:6}");
    d.pos(
        "Vercel",
        "vercel-token",
        "npm-script-cli",
        &format!("    \"deploy\": \"vercel deploy --prod --token {v}\","),
    );
    let s = g.x("sntrys_%{sentry-org-payload}_%{b64:43}");
    d.pos(
        "Sentry",
        "sentry-org-token",
        "npm-script-cli",
        &format!("    \"sourcemaps\": \"sentry-cli sourcemaps upload --auth-token {s} ./dist\","),
    );
    d.neg("Sentry", "env-reference", "npm-script-cli", "    \"release\": \"sentry-cli releases new $SENTRY_RELEASE --auth-token $SENTRY_AUTH_TOKEN\"");
    d.text("  },\n  \"dependencies\": {\n    \"next\": \"15.0.0\"\n  }\n}");
    g.finish(d);

    // Jupyter notebook: code cells as JSON strings with escaped quotes.
    let mut d = Doc::new("notebooks/analysis.ipynb");
    d.text("{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"metadata\": {},\n   \"source\": [\n    \"import os\\n\",");
    let v = g.x("sk-or-v1-%{hex:64}");
    d.pos(
        "OpenRouter",
        "openrouter-api-key",
        "ipynb-escaped",
        &format!("    \"os.environ[\\\"OPENROUTER_API_KEY\\\"] = \\\"{v}\\\"\\n\","),
    );
    let v = g.x("%{uuid4}");
    d.pos(
        "Railway",
        "railway-token",
        "ipynb-escaped",
        &format!("    \"RAILWAY_TOKEN = \\\"{v}\\\"\\n\","),
    );
    d.layer("json-escape");
    let v = g.x("%{upstash-v1:DB}");
    d.pos(
        "Upstash",
        "upstash-redis-rest-token",
        "ipynb-kwarg-upstash-comment-after",
        &format!(
            "    \"redis = Redis(url=url, token=\\\"{v}\\\")  # UPSTASH_REDIS_REST_TOKEN\\n\","
        ),
    );
    let v = g.x("%{upstash-v2:DB}");
    d.pos(
        "Upstash",
        "upstash-redis-token-v2",
        "ipynb-escaped",
        &format!("    \"UPSTASH_REDIS_REST_TOKEN = \\\"{v}\\\"\\n\","),
    );
    let v = g.x("%{jwt:supabase:service_role}");
    d.pos(
        "Supabase",
        "supabase-service-role-jwt",
        "ipynb-escaped",
        &format!("    \"supabase = create_client(url, \\\"{v}\\\")\\n\","),
    );
    let anon = g.x("%{jwt:supabase:anon}");
    d.neg(
        "Supabase",
        "supabase-anon-jwt",
        "ipynb-escaped",
        &format!("    \"anon = create_client(url, \\\"{anon}\\\")\\n\","),
    );
    let img = g.x("%{b64:400}");
    d.text("    \"print('ok')\"\n   ],\n   \"outputs\": [\n    {\n     \"data\": {");
    d.neg(
        "Image",
        "base64-image",
        "ipynb-output",
        &format!("      \"image/png\": \"iVBORw0KGgoAAAANSUhEUgAA{img}\","),
    );
    d.text(
        "      \"text/plain\": [\"<Figure>\"]\n     }\n    }\n   ]\n  }\n ],\n \"nbformat\": 4\n}",
    );
    g.finish(d);
}

fn docs_files(g: &mut Gen) {
    let mut d = Doc::new("README.md");
    d.text("# Acme API\n\n## Configuration\n\nSet these in your environment:\n\n```sh");
    d.neg(
        "OpenRouter",
        "env-reference",
        "markdown-curl",
        "curl https://openrouter.ai/api/v1/models -H \"Authorization: Bearer $OPENROUTER_API_KEY\"",
    );
    d.neg(
        "Supabase",
        "placeholder",
        "markdown",
        "export SUPABASE_SERVICE_ROLE_KEY=<your-service-role-key>",
    );
    d.neg("Upstash", "placeholder", "markdown", "export UPSTASH_REDIS_REST_TOKEN=\"AX...\"");
    d.neg("Vercel", "placeholder", "markdown", "vercel deploy --token YOUR_VERCEL_TOKEN");
    // Documented examples: AWS docs pair and the jwt.io sample (assembled at run time).
    let aws_id = format!("{}{}", "AKIAIOSFODNN7", "EXAMPLE");
    let aws_secret = format!("{}/{}/{}", "wJalrXUtnFEMI", "K7MDENG", "bPxRfiCYEXAMPLEKEY");
    d.neg("AWS", "documented-example", "markdown", &format!("export AWS_ACCESS_KEY_ID={aws_id}"));
    d.neg(
        "AWS",
        "documented-example",
        "markdown",
        &format!("export AWS_SECRET_ACCESS_KEY={aws_secret}"),
    );
    let jwtio = format!(
        "{}.{}.{}",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    );
    d.neg(
        "JWT",
        "documented-example",
        "markdown",
        &format!("curl -H \"Authorization: Bearer {jwtio}\" https://api.example.com/me"),
    );
    d.text("```\n\nA real key someone pasted into the docs:\n\n```sh");
    let v = g.x("sk-or-v1-%{hex:64}");
    d.pos(
        "OpenRouter",
        "openrouter-api-key",
        "markdown-curl",
        &format!(
            "curl https://openrouter.ai/api/v1/chat/completions -H \"Authorization: Bearer {v}\""
        ),
    );
    let v = g.x("%{uuid4}");
    d.pos("Railway", "railway-access-token-header", "markdown-curl", &format!("curl -X POST https://backboard.railway.com/graphql/v2 -H \"Project-Access-Token: {v}\" -d '{{\"query\":\"query {{ projectToken {{ projectId }} }}\"}}'"));
    d.text("```\n\n![diagram](data:image/png;base64,");
    let img = g.x("%{b64:600}");
    d.neg("Image", "base64-image", "markdown-data-uri", &format!("iVBORw0KGgoAAAANSUhEUgAA{img})"));
    d.text("\nGraphQL returns IDs such as:\n\n```json");
    let a = g.x("%{uuid4}");
    let b = g.x("%{uuid4}");
    d.neg(
        "Railway",
        "railway-ids",
        "graphql",
        &format!(
            "{{\"data\":{{\"projectToken\":{{\"projectId\":\"{a}\",\"environmentId\":\"{b}\"}}}}}}"
        ),
    );
    d.text("```");
    g.finish(d);

    let mut d = Doc::new("public/index.html");
    d.text("<!doctype html>\n<html>\n<head>");
    let sri = g.x("%{b64:64}");
    d.neg("Hash", "sri-hash", "html", &format!("<script src=\"https://cdn.example.com/lib.js\" integrity=\"sha384-{sri}\" crossorigin=\"anonymous\"></script>"));
    let img = g.x("%{b64:300}");
    d.neg(
        "Image",
        "base64-image",
        "html",
        &format!(
            "<link rel=\"icon\" href=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA{img}\">"
        ),
    );
    let dsn = g.x("https://%{hex:32}@o%{digits:6}.ingest.sentry.io/%{digits:7}");
    d.neg(
        "Sentry",
        "sentry-dsn-public",
        "html",
        &format!("<script>Sentry.init({{ dsn: \"{dsn}\" }});</script>"),
    );
    d.text("</head>\n<body></body>\n</html>");
    g.finish(d);
}

fn lockfiles(g: &mut Gen) {
    let mut d = Doc::new("package-lock.json");
    d.text("{\n  \"name\": \"web\",\n  \"lockfileVersion\": 3,\n  \"packages\": {");
    for name in
        ["next", "react", "zod", "@sentry/nextjs", "@supabase/supabase-js", "@upstash/redis"]
    {
        let h = g.x("%{b64:86}");
        let v = g.rng.range(1, 20);
        d.text(&format!("    \"node_modules/{name}\": {{\n      \"version\": \"{v}.0.1\",\n      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-{v}.0.1.tgz\","));
        d.neg(
            "Hash",
            "sri-hash",
            "package-lock",
            &format!("      \"integrity\": \"sha512-{h}==\","),
        );
        d.text("      \"license\": \"MIT\"\n    },");
    }
    d.text("    \"\": {}\n  }\n}");
    g.finish(d);

    let mut d = Doc::new("yarn.lock");
    d.text(
        "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n",
    );
    for name in ["lodash", "axios", "@vercel/analytics"] {
        let h = g.x("%{b64:86}");
        let sha = g.x("%{hex:40}");
        d.text(&format!("\"{name}@^1.0.0\":\n  version \"1.0.3\""));
        d.neg(
            "Hash",
            "lockfile-hash",
            "yarn-lock",
            &format!("  resolved \"https://registry.yarnpkg.com/{name}/-/{name}-1.0.3.tgz#{sha}\""),
        );
        d.neg("Hash", "sri-hash", "yarn-lock", &format!("  integrity sha512-{h}=="));
        d.text("");
    }
    g.finish(d);

    let mut d = Doc::new("Cargo.lock");
    d.text("# This file is automatically @generated by Cargo.\nversion = 4\n");
    for name in ["serde", "regex", "sentry-core", "upstash-ratelimit"] {
        let h = g.x("%{hex:64}");
        d.text(&format!("[[package]]\nname = \"{name}\"\nversion = \"1.0.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\""));
        d.neg("Hash", "lockfile-hash", "cargo-lock", &format!("checksum = \"{h}\""));
        d.text("");
    }
    g.finish(d);

    let mut d = Doc::new("poetry.lock");
    for name in ["requests", "supabase", "sentry-sdk"] {
        let h1 = g.x("%{hex:64}");
        let h2 = g.x("%{hex:64}");
        d.text(&format!("[[package]]\nname = \"{name}\"\nversion = \"2.1.0\"\nfiles = ["));
        d.neg(
            "Hash",
            "lockfile-hash",
            "poetry-lock",
            &format!("    {{file = \"{name}-2.1.0-py3-none-any.whl\", hash = \"sha256:{h1}\"}},"),
        );
        d.neg(
            "Hash",
            "lockfile-hash",
            "poetry-lock",
            &format!("    {{file = \"{name}-2.1.0.tar.gz\", hash = \"sha256:{h2}\"}},"),
        );
        d.text("]\n");
    }
    g.finish(d);

    let mut d = Doc::new("go.sum");
    for name in
        ["github.com/getsentry/sentry-go", "github.com/redis/go-redis/v9", "golang.org/x/crypto"]
    {
        let h1 = g.x("%{b64:43}");
        let h2 = g.x("%{b64:43}");
        d.neg("Hash", "lockfile-hash", "go-sum", &format!("{name} v0.30.0 h1:{h1}="));
        d.neg("Hash", "lockfile-hash", "go-sum", &format!("{name} v0.30.0/go.mod h1:{h2}="));
    }
    g.finish(d);
}

fn special_files(g: &mut Gen) {
    // UTF-16LE with BOM (PowerShell profile).
    let mut d = Doc::new("scripts/profile.ps1").enc(Enc::Utf16);
    d.text("# PowerShell profile");
    for kind in KINDS.iter().step_by(4) {
        let key = kind.keys[0];
        let v = g.value(kind);
        d.pos(
            kind.provider,
            kind.rule,
            "utf16-powershell",
            &format!("$env:{} = \"{v}\"", upper(key)),
        );
        d.layer("utf16");
    }
    let anon = g.x("%{jwt:supabase:anon}");
    d.neg(
        "Supabase",
        "supabase-anon-jwt",
        "utf16-powershell",
        &format!("$env:SUPABASE_ANON_KEY = \"{anon}\""),
    );
    g.finish(d);

    // .sentryclirc: the token binds by file name and section.
    let mut d = Doc::new(".sentryclirc");
    d.text("[defaults]\norg = acme\nproject = web\n\n[auth]");
    let v = g.x("%{hex:64}");
    d.pos("Sentry", "sentry-legacy-token", "sentryclirc", &format!("token={v}"));
    g.finish(d);

    // Rails master key file.
    let mut d = Doc::new("config/master.key");
    let v = g.x("%{hex:32}");
    d.pos(ENC, "rails-master-key", "master-key-file", &v);
    d.final_newline = false;
    g.finish(d);

    // age identity file.
    let mut d = Doc::new("secrets/keys.txt");
    d.text("# created: 2025-01-01T00:00:00Z");
    let v = g.x("age1%{lower:58}");
    d.neg(ENC, "age-public-key", "age-file", &format!("# public key: {v}"));
    let v = g.x("AGE-SECRET-KEY-1%{bech32:58}");
    d.pos(ENC, "age-secret-key", "age-file", &v);
    g.finish(d);

    // OpenSSH / PEM key files and public keys.
    let mut d = Doc::new("deploy/id_rsa");
    let body = g.x("%{pem-body}");
    d.pos(
        "Private key",
        "private-key",
        "pem-file",
        &format!(
            "-----BEGIN {} PRIVATE KEY-----\n{body}\n-----END {} PRIVATE KEY-----",
            "OPENSSH", "OPENSSH"
        ),
    );
    g.finish(d);
    let mut d = Doc::new("deploy/id_rsa.pub");
    let v = g.x("%{b64:372}");
    d.neg(
        "Private key",
        "public-key",
        "ssh-pub",
        &format!("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ{v} deploy@ci"),
    );
    g.finish(d);

    // URL-embedded credentials, percent-encoded passwords.
    let mut d = Doc::new("config/database.yml");
    d.text("production:");
    let pw = g.x("%{alnum:10}");
    let pw2 = g.x("%{alnum:10}");
    let r = g.x("%{lower:20}");
    d.pos(
        "Supabase",
        "supabase-db-url",
        "percent-encoded",
        &format!("  url: postgresql://postgres:{pw}%40{pw2}%21@db.{r}.supabase.co:5432/postgres"),
    );
    d.layer("percent");
    let up = g.x("%{upstash-v2:339214}");
    d.pos(
        "Upstash",
        "upstash-redis-url",
        "url-embedded",
        &format!("  cache_url: redis://default:{up}@prime-owl-339214.upstash.io:6379"),
    );
    let a = g.x("%{hex:32}");
    let b = g.x("%{hex:32}");
    d.pos(
        "Sentry",
        "sentry-dsn-secret",
        "url-embedded",
        &format!("  sentry_dsn: https://{a}:{b}@sentry.acme-corp.net/12"),
    );
    d.neg(
        "Upstash",
        "placeholder",
        "url-embedded",
        "  queue_url: rediss://default:[TOKEN]@[ENDPOINT].upstash.io:6379",
    );
    d.neg(
        "Database",
        "local-default",
        "url-embedded",
        "  dev_url: postgresql://postgres:postgres@localhost:54322/postgres",
    );
    g.finish(d);

    // .npmrc with _authToken and base64 _auth.
    let mut d = Doc::new(".npmrc");
    d.text("registry=https://registry.npmjs.org/");
    let v = g.x("npm_%{alnum:36}");
    d.pos("npm", "npm-token", "npmrc", &format!("//registry.npmjs.org/:_authToken={v}"));
    d.neg("npm", "env-reference", "npmrc", "//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}");
    let gh = g.x("%{crc62:ghp_:36}");
    d.pos(
        "GitHub",
        "github-token",
        "npmrc-auth-base64",
        &format!("//npm.pkg.github.com/:_auth={}", b64(&format!("ci-bot:{gh}"))),
    );
    d.layer("npmrc-auth");
    g.finish(d);

    // Test fixtures marked as such (inline allow markers): not findings.
    let mut d = Doc::new("tests/fixtures/tokens.ts");
    d.text("// Fake credentials for parser tests.");
    for kind in KINDS.iter().filter(|k| k.bare).step_by(3) {
        let v = g.value(kind);
        d.neg(
            kind.provider,
            "marked-fixture",
            "allow-marker",
            &format!("export const {} = \"{v}\"; // gitleaks:allow", upper(kind.keys[0])),
        );
    }
    let v = g.x("sk-or-v1-%{hex:64}");
    d.text("// warden:allow-next-line");
    d.neg(
        "OpenRouter",
        "marked-fixture",
        "allow-next-line",
        &format!("export const OR = \"{v}\";"),
    );
    g.finish(d);

    // A shell script with CLI arguments.
    let mut d = Doc::new("scripts/deploy.sh");
    d.text("#!/bin/sh\nset -e");
    let v = g.x("%{uuid4}");
    d.pos(
        "Railway",
        "railway-token",
        "cli-env-prefix",
        &format!("RAILWAY_TOKEN={v} railway up --detach"),
    );
    let v = g.x("sntrys_%{sentry-org-payload}_%{b64:43}");
    d.pos(
        "Sentry",
        "sentry-org-token",
        "cli-arg",
        &format!("sentry-cli --auth-token \"{v}\" releases finalize \"$VERSION\""),
    );
    let v = g.x("sk-or-v1-%{hex:64}");
    d.pos(
        "OpenRouter",
        "openrouter-api-key",
        "curl-header",
        &format!("curl -s https://openrouter.ai/api/v1/key -H 'Authorization: Bearer {v}'"),
    );
    let v = g.x("%{upstash-v1:DB}");
    d.pos("Upstash", "upstash-redis-rest-token", "curl-header-context", &format!("curl https://ample-fox-1.upstash.io/get/k -H \"Authorization: Bearer {v}\"  # UPSTASH_REDIS_REST_TOKEN"));
    let v = g.x("%{qstash}");
    d.pos("Upstash", "upstash-qstash-token", "curl-header", &format!("curl -XPOST https://qstash.upstash.io/v2/publish/https://example.com -H \"Authorization: Bearer {v}\""));
    d.neg("Upstash", "env-reference", "curl-header", "curl -XPOST https://qstash.upstash.io/v2/publish/x -H \"Authorization: Bearer $QSTASH_TOKEN\"");
    let sha = g.x("%{hex:40}");
    d.neg("Git", "git-sha", "shell", &format!("git checkout {sha}"));
    let img = g.x("sha256:%{hex:64}");
    d.neg("Hash", "docker-digest", "shell", &format!("docker pull ghcr.io/acme/api@{img}"));
    g.finish(d);
}

/// One positive per builtin rule from the rule's own example templates (so every rule id,
/// including rules merged later, has at least one positive).
fn rule_examples(g: &mut Gen) {
    let set = RuleSet::builtin().expect("builtin rules");
    let mut d = Doc::new("ops/inventory.txt");
    d.text("# credentials inventory (to be moved to the vault)");
    for rule in set.rules() {
        if rule.path.is_some() || rule.kind == warden::rules::RuleKind::Public {
            continue;
        }
        let Some(t) = rule.examples.first() else { continue };
        let ex = expand(t, &mut g.rng).expect("rule example expands");
        let provider = match rule.id.as_str() {
            "generic-encryption-key" | "rails-master-key-env" | "age-secret-key" => ENC,
            _ => rule.provider.as_str(),
        };
        d.text("");
        d.pos(provider, &rule.id, "rule-example", &ex);
    }
    g.finish(d);
}

fn write_json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("json string"));
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut outdir: Option<PathBuf> = None;
    let mut seed: u64 = 7;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).expect("--seed N"),
            _ => outdir = Some(PathBuf::from(a)),
        }
    }
    let outdir = outdir.expect("usage: eval_corpus OUTDIR [--seed N]");
    let mut g = Gen { rng: Rng::new(seed), docs: vec![] };
    env_files(&mut g);
    lookalikes(&mut g);
    code_files(&mut g);
    yaml_files(&mut g);
    infra_files(&mut g);
    docs_files(&mut g);
    lockfiles(&mut g);
    special_files(&mut g);
    rule_examples(&mut g);

    let root = outdir.join("files");
    let mut labels = String::new();
    let _ = write!(labels, "{{\"corpus\": \"warden-own\", \"seed\": {seed}, \"labels\": [");
    let mut first = true;
    let (mut npos, mut nneg) = (0, 0);
    for doc in &g.docs {
        write_file(&root, &doc.path, &doc.bytes());
        for l in &doc.labels {
            if !first {
                labels.push(',');
            }
            first = false;
            labels.push_str("\n  {\"path\": ");
            write_json_str(&mut labels, &l.path);
            let _ = write!(
                labels,
                ", \"line\": {}, \"end_line\": {}, \"provider\": ",
                l.line, l.end_line
            );
            write_json_str(&mut labels, &l.provider);
            labels.push_str(", \"rule\": ");
            write_json_str(&mut labels, &l.rule);
            let _ = write!(
                labels,
                ", \"label\": \"{}\", \"context\": ",
                if l.positive { "positive" } else { "negative" }
            );
            write_json_str(&mut labels, &l.context);
            match l.layer {
                Some(layer) => {
                    let _ = write!(labels, ", \"layer\": \"{layer}\"}}");
                }
                None => labels.push_str(", \"layer\": null}"),
            }
            if l.positive {
                npos += 1;
            } else {
                nneg += 1;
            }
        }
    }
    labels.push_str("\n]}\n");
    std::fs::write(outdir.join("labels.json"), labels).expect("write labels.json");
    eprintln!(
        "eval_corpus: {} files, {npos} positives, {nneg} hard negatives in {}",
        g.docs.len(),
        root.display()
    );
}

fn write_file(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("create dir");
    }
    std::fs::write(&p, bytes).expect("write corpus file");
}
