//! The bulk pack reader against libgit2: every blob of a repository with deep delta chains
//! (offset and ref deltas), read together, must come back byte for byte; damaged packs and
//! unpacked objects are handed back, never guessed at.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use git2::{Oid, Repository};
use warden::rules::template::Rng;
use warden::source::odb::{Blob, ObjectStore};

use crate::support::{overwrite_read_only, TestRepo};

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A repository whose files each change in many small steps, so `repack` chains deltas.
fn evolving_repo(commits: usize) -> TestRepo {
    let repo = TestRepo::new();
    let mut rng = Rng::new(11);
    let mut files: Vec<Vec<String>> = (0..4)
        .map(|f| (0..120).map(|l| format!("file {f} line {l} {}", rng.string(ALNUM, 24))).collect())
        .collect();
    let mut stream = String::new();
    for c in 0..commits {
        let f = c % files.len();
        let at = rng.range(0, files[f].len() - 1);
        files[f][at] = format!("edit {c}: {}", rng.string(ALNUM, 40));
        if c % 7 == 0 {
            files[f].push(format!("appended {c}"));
        }
        writeln!(stream, "commit refs/heads/main\nmark :{}", c + 1).unwrap();
        writeln!(stream, "committer T <t@example.com> {} +0000", 1_700_000_000 + c).unwrap();
        writeln!(stream, "data 3\nc{:<1}", c % 10).unwrap();
        for (n, lines) in files.iter().enumerate() {
            let body = lines.join("\n") + "\n";
            writeln!(stream, "M 100644 inline src/f{n}.txt\ndata {}\n{body}", body.len()).unwrap();
        }
    }
    let mut cmd = repo.command("git", repo.root());
    cmd.args(["fast-import", "--quiet"]).stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), stream.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "fast-import failed");
    repo
}

/// Every blob in the repository, in object-id order.
fn all_blobs(repo: &TestRepo) -> Vec<Oid> {
    let listed = repo.git(&["cat-file", "--batch-all-objects", "--batch-check"]);
    let mut blobs: Vec<Oid> = listed
        .lines()
        .filter(|l| l.split(' ').nth(1) == Some("blob"))
        .map(|l| Oid::from_str(l.split(' ').next().unwrap()).unwrap())
        .collect();
    blobs.sort();
    blobs
}

/// What a bulk read served: request index → content, or the size of a blob not built.
type Served = HashMap<usize, Result<Vec<u8>, u64>>;

/// Reads `oids` in bulk; returns what was served and the indices handed back.
fn bulk(store: &ObjectStore, oids: &[Oid], max: u64) -> (Served, Vec<usize>) {
    let got = Mutex::new(HashMap::new());
    let rest = store.read_many(oids, max, &|i, blob| {
        let v = match blob {
            Blob::Bytes(b) => Ok(b.to_vec()),
            Blob::TooLarge(n) => Err(n),
        };
        assert!(got.lock().unwrap().insert(i, v).is_none(), "request {i} served twice");
    });
    (got.into_inner().unwrap(), rest)
}

/// The repository's (single) pack file with extension `ext` (`pack` or `idx`).
fn pack_file(repo: &TestRepo, ext: &str) -> std::path::PathBuf {
    std::fs::read_dir(repo.path(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == ext))
        .unwrap()
}

/// The longest delta chain in the repository's pack.
fn max_chain(repo: &TestRepo) -> usize {
    let idx = pack_file(repo, "idx");
    let listing = repo.git(&["verify-pack", "-v", idx.to_str().unwrap()]);
    listing
        .lines()
        .filter_map(|l| l.strip_prefix("chain length = "))
        .filter_map(|l| l.split(':').next()?.parse().ok())
        .max()
        .unwrap_or(0)
}

fn check_against_libgit2(repo: &TestRepo, min_blobs: usize) {
    let git = Repository::open(repo.root()).unwrap();
    let blobs = all_blobs(repo);
    assert!(blobs.len() >= min_blobs, "only {} blobs", blobs.len());
    let mut oids = blobs.clone();
    oids.push(blobs[3]); // asked twice: served twice
    let store = ObjectStore::open(git.path());
    assert_eq!(store.packs(), 1);
    let (got, rest) = bulk(&store, &oids, u64::MAX);
    assert!(rest.is_empty(), "not served: {rest:?}");
    for (i, oid) in oids.iter().enumerate() {
        let want = git.find_blob(*oid).unwrap().content().to_vec();
        assert_eq!(got[&i].as_deref().ok(), Some(&want[..]), "blob {oid}");
    }
}

#[test]
fn deep_offset_delta_chains_read_back_exactly() {
    let repo = evolving_repo(400);
    repo.git(&["repack", "-a", "-d", "-f", "-q", "--depth=300", "--window=50"]);
    assert!(max_chain(&repo) >= 60, "chains of {}", max_chain(&repo));
    check_against_libgit2(&repo, 400);
}

#[test]
fn ref_deltas_read_back_exactly() {
    let repo = evolving_repo(120);
    repo.git(&["-c", "repack.useDeltaBaseOffset=false", "repack", "-a", "-d", "-f", "-q"]);
    check_against_libgit2(&repo, 120);
}

#[test]
fn packed_and_loose_are_served_unknown_objects_handed_back() {
    let repo = evolving_repo(30);
    repo.git(&["repack", "-a", "-d", "-q"]);
    repo.write("loose.txt", "not packed yet\n");
    let loose = repo.git(&["hash-object", "-w", "loose.txt"]);
    let git = Repository::open(repo.root()).unwrap();
    let store = ObjectStore::open(git.path());
    let packed = all_blobs(&repo)[0];
    let oids = [Oid::from_str(loose.trim()).unwrap(), packed, Oid::from_bytes(&[7; 20]).unwrap()];
    let (got, rest) = bulk(&store, &oids, u64::MAX);
    assert_eq!(rest, vec![2]);
    assert_eq!(got[&0].as_deref().ok(), Some(&b"not packed yet\n"[..]));
    assert!(got[&1].is_ok());
}

#[test]
fn blobs_over_the_size_limit_are_reported_as_such() {
    let repo = evolving_repo(40);
    repo.git(&["repack", "-a", "-d", "-f", "-q"]);
    let git = Repository::open(repo.root()).unwrap();
    let store = ObjectStore::open(git.path());
    let oids = all_blobs(&repo);
    let sizes: Vec<u64> = oids.iter().map(|o| git.find_blob(*o).unwrap().size() as u64).collect();
    let mut sorted = sizes.clone();
    sorted.sort_unstable();
    let limit = sorted[sorted.len() / 2];
    let (got, rest) = bulk(&store, &oids, limit);
    assert!(rest.is_empty());
    for (i, size) in sizes.iter().enumerate() {
        match &got[&i] {
            Err(n) => assert!(n == size && *size > limit, "{n} vs {size}"),
            Ok(content) => assert!(content.len() as u64 == *size && *size <= limit),
        }
    }
    assert!(got.values().any(Result::is_ok) && got.values().any(Result::is_err));
}

#[test]
fn a_damaged_pack_is_handed_back_and_the_scan_fails_closed() {
    let repo = evolving_repo(60);
    repo.git(&["repack", "-a", "-d", "-f", "-q"]);
    let git = Repository::open(repo.root()).unwrap();
    let pack = pack_file(&repo, "pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    overwrite_read_only(&pack, &bytes);
    let store = ObjectStore::open(git.path());
    let oids = all_blobs(&repo);
    let (got, rest) = bulk(&store, &oids, u64::MAX);
    assert!(!rest.is_empty(), "the damage went unnoticed");
    for (i, oid) in oids.iter().enumerate() {
        if let Some(Ok(content)) = got.get(&i) {
            // whatever was served is exactly the object (zlib checksums, sizes)
            assert_eq!(Oid::hash_object(git2::ObjectType::Blob, content).unwrap(), *oid);
        }
    }
    let out = repo.warden(&["scan", "--history"]);
    assert_eq!(out.code, Some(2), "{out}");
}

#[test]
fn a_large_staged_set_of_packed_blobs_is_scanned_in_bulk() {
    let repo = TestRepo::new();
    for n in 0..80 {
        let body = match n {
            5 | 41 | 79 => crate::support_history::secret_line(n),
            _ => format!("export const value{n} = {n};\n"),
        };
        repo.write(format!("src/m{n:02}.ts"), body);
    }
    repo.stage_all().commit("files");
    repo.git(&["gc", "-q"]);
    // an orphan branch stages every (packed) file again, with no HEAD to compare against
    repo.git(&["checkout", "-q", "--orphan", "fresh"]);
    let out = repo.warden(&["scan", "--staged", "-f", "json"]);
    assert_eq!(out.code, Some(1), "{out}");
    let v = out.json();
    let mut paths: Vec<_> =
        v["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, ["src/m05.ts", "src/m41.ts", "src/m79.ts"]);
    assert_eq!(v["stats"]["blobs"], 80, "{out}");
}

/// Seeded random byte damage (and truncation) of the pack and its index: no panic, and what
/// is still served is exactly the object (zlib checksums, declared sizes and delta base
/// sizes catch the damage; like libgit2 without hash verification, a damaged base offset
/// landing on another object of exactly the declared size would not be caught, which none
/// of these rounds does).
#[test]
fn random_damage_never_panics_and_never_serves_wrong_bytes() {
    let repo = evolving_repo(60);
    repo.git(&["repack", "-a", "-d", "-f", "-q", "--depth=100"]);
    let oids = all_blobs(&repo);
    let (pack, idx) = (pack_file(&repo, "pack"), pack_file(&repo, "idx"));
    let (pack_bytes, idx_bytes) = (std::fs::read(&pack).unwrap(), std::fs::read(&idx).unwrap());
    let copy = repo.tmp().join("damaged");
    let dir = copy.join("objects/pack");
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(3);
    for round in 0..300 {
        let (mut p, mut x) = (pack_bytes.clone(), idx_bytes.clone());
        let target = if round % 4 == 3 { &mut x } else { &mut p };
        for _ in 0..rng.range(1, 4) {
            let at = rng.range(0, target.len() - 1);
            target[at] = rng.next_u64() as u8;
        }
        if round % 10 == 9 {
            let cut = rng.range(0, target.len() - 1);
            target.truncate(cut);
        }
        std::fs::write(dir.join(pack.file_name().unwrap()), &p).unwrap();
        std::fs::write(dir.join(idx.file_name().unwrap()), &x).unwrap();
        let store = ObjectStore::open(&copy);
        let (got, _) = bulk(&store, &oids, u64::MAX);
        for (i, v) in got {
            if let Ok(content) = v {
                let hashed = Oid::hash_object(git2::ObjectType::Blob, &content).unwrap();
                assert_eq!(hashed, oids[i], "round {round}: wrong bytes served");
            }
        }
    }
}

#[test]
fn loose_blobs_are_read_in_bulk_and_match_libgit2() {
    let repo = TestRepo::new();
    let mut rng = Rng::new(5);
    let mut oids = Vec::new();
    for n in 0..40 {
        let body = match n {
            0 => String::new(),
            1 => "x".repeat(200_000),
            _ => {
                let len = rng.range(1, 5000);
                rng.string(ALNUM, len)
            }
        };
        repo.write(format!("f{n}"), &body);
        let oid = repo.git(&["hash-object", "-w", &format!("f{n}")]);
        oids.push(Oid::from_str(oid.trim()).unwrap());
    }
    let git = Repository::open(repo.root()).unwrap();
    let store = ObjectStore::open(git.path());
    let (got, rest) = bulk(&store, &oids, 100_000);
    assert!(rest.is_empty(), "{rest:?}");
    for (i, oid) in oids.iter().enumerate() {
        let want = git.find_blob(*oid).unwrap().content().to_vec();
        match &got[&i] {
            Ok(content) => assert_eq!(content, &want, "blob {i}"),
            Err(size) => assert_eq!((*size, i), (200_000, 1)),
        }
    }
    // a loose object that is not a blob, and a damaged loose file, are handed back
    let tree = Oid::from_str(repo.git(&["write-tree"]).trim()).unwrap();
    let hex = oids[2].to_string();
    let file = repo.path(format!(".git/objects/{}/{}", &hex[..2], &hex[2..]));
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 6;
    bytes[last] ^= 0xff;
    overwrite_read_only(&file, &bytes);
    let (_, rest) = bulk(&store, &[tree, oids[2], oids[3]], u64::MAX);
    assert_eq!(rest, vec![0, 1]);
}

/// Writes a pack (and its index, through `git index-pack`) under `dir/objects/pack`: a chain
/// of `n` versions, each an offset delta of the one before, and beside each version one
/// leaf blob that is a delta of it — a forest as deep and as branchy as `n`.
fn branchy_pack(repo: &TestRepo, dir: &std::path::Path, n: usize) -> Vec<Oid> {
    let version = |k: usize| format!("{k:08}\n{}\n", "-".repeat(40)).into_bytes();
    let leaf = |k: usize| format!("L{k:07}\n{}\n", "-".repeat(40)).into_bytes();
    let insert_delta = |src: usize, dst: &[u8]| {
        let mut d = vec![src as u8, dst.len() as u8, dst.len() as u8];
        d.extend_from_slice(dst);
        d
    };
    let mut pack = b"PACK".to_vec();
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&((2 * n) as u32).to_be_bytes());
    let mut oids = Vec::new();
    let mut prev_offset = 0usize;
    let push = pack_object;
    for k in 0..n {
        let v = version(k);
        let at = if k == 0 {
            push(&mut pack, 3, &v, None)
        } else {
            push(&mut pack, 6, &insert_delta(version(k - 1).len(), &v), Some(prev_offset))
        };
        push(&mut pack, 6, &insert_delta(v.len(), &leaf(k)), Some(at));
        prev_offset = at;
        oids.push(Oid::hash_object(git2::ObjectType::Blob, &v).unwrap());
        oids.push(Oid::hash_object(git2::ObjectType::Blob, &leaf(k)).unwrap());
    }
    let sum = sha1_smol::Sha1::from(&pack).digest().bytes();
    pack.extend_from_slice(&sum);
    let packs = dir.join("objects/pack");
    std::fs::create_dir_all(&packs).unwrap();
    let file = packs.join("pack-branchy.pack");
    std::fs::write(&file, &pack).unwrap();
    repo.git(&["index-pack", file.to_str().unwrap()]);
    oids
}

/// Appends one object (type `kind`; an offset delta of the object at `base` when given) to
/// `pack`; returns its offset.
fn pack_object(pack: &mut Vec<u8>, kind: u8, data: &[u8], base: Option<usize>) -> usize {
    use flate2::{write::ZlibEncoder, Compression};
    let offset = pack.len();
    let mut size = data.len();
    let mut byte = (kind << 4) | (size & 0x0f) as u8;
    size >>= 4;
    while size > 0 {
        pack.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    pack.push(byte);
    if let Some(base) = base {
        // git's offset encoding: big-endian base-128, each continuation byte minus one
        let mut rel = offset - base;
        let mut bytes = vec![(rel & 0x7f) as u8];
        rel >>= 7;
        while rel > 0 {
            rel -= 1;
            bytes.push(0x80 | (rel & 0x7f) as u8);
            rel >>= 7;
        }
        bytes.reverse();
        pack.extend_from_slice(&bytes);
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    std::io::Write::write_all(&mut z, data).unwrap();
    pack.extend_from_slice(&z.finish().unwrap());
    offset
}

#[test]
fn a_deep_branchy_delta_forest_is_walked_without_deep_recursion() {
    let repo = TestRepo::new();
    let dir = repo.tmp().join("branchy");
    let oids = branchy_pack(&repo, &dir, 4000);
    let store = ObjectStore::open(&dir);
    // oldest first, as a history walk asks: the deepest objects come first
    let (got, rest) = bulk(&store, &oids, u64::MAX);
    assert!(rest.is_empty(), "{} handed back", rest.len());
    for (i, oid) in oids.iter().enumerate() {
        let content = got[&i].as_ref().unwrap();
        assert_eq!(Oid::hash_object(git2::ObjectType::Blob, content).unwrap(), *oid);
    }
}

#[test]
fn packed_trees_and_commits_are_not_served_as_blobs() {
    let repo = evolving_repo(10);
    repo.git(&["repack", "-a", "-d", "-q"]);
    let git = Repository::open(repo.root()).unwrap();
    let store = ObjectStore::open(git.path());
    let head = git.head().unwrap().peel_to_commit().unwrap();
    let blob = all_blobs(&repo)[0];
    let (got, rest) = bulk(&store, &[head.id(), head.tree_id(), blob], u64::MAX);
    assert_eq!(rest, vec![0, 1]);
    assert!(got[&2].is_ok());
}

#[test]
fn objects_in_several_packs_are_all_served() {
    let repo = evolving_repo(30);
    repo.git(&["repack", "-a", "-d", "-q"]);
    repo.write("later.txt", "a later blob\n");
    repo.stage_all().commit("later");
    repo.git(&["repack", "-d", "-q"]);
    let git = Repository::open(repo.root()).unwrap();
    let store = ObjectStore::open(git.path());
    assert_eq!(store.packs(), 2);
    let oids = all_blobs(&repo);
    let (got, rest) = bulk(&store, &oids, u64::MAX);
    assert!(rest.is_empty());
    for (i, oid) in oids.iter().enumerate() {
        assert_eq!(got[&i].as_deref().ok(), Some(git.find_blob(*oid).unwrap().content()));
    }
}

#[test]
fn history_findings_come_in_the_same_order_every_run() {
    let repo = TestRepo::new();
    // a key rotated in every commit: many findings tie on path, line and column
    for c in 0..120u64 {
        repo.write("app.env", crate::support_history::secret_line(c));
        repo.stage_all().commit(&format!("rotate {c}"));
    }
    let runs: Vec<String> =
        (0..4).map(|_| repo.warden(&["scan", "--history", "-f", "json"]).stdout).collect();
    let strip = |s: &str| s.lines().filter(|l| !l.contains("elapsed_ms")).collect::<String>();
    assert!(runs.iter().all(|r| strip(r) == strip(&runs[0])), "order changed between runs");
}
