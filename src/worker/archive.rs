//! Extracting a skill archive (zip, or tar plain, gzip- or bzip2-compressed)
//! with the official limits: 10,000 members, 1 GiB decompressed, no member
//! outside the destination, links and devices skipped, and a single
//! top-level wrapper directory stripped. Members are written beneath the
//! destination's directory descriptor, never through a symlink nor into an
//! existing file (which the agent may have planted as a link).

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use rustix::fs::OFlags;

use super::beneath::Dir;
use super::tools::guard::clean;

pub const MAX_MEMBERS: usize = 10_000;
pub const MAX_BYTES: u64 = 1 << 30;

/// How much an archive may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub members: usize,
    /// Decompressed bytes, all members together.
    pub bytes: u64,
}

/// The official worker's limits.
pub const LIMITS: Limits = Limits {
    members: MAX_MEMBERS,
    bytes: MAX_BYTES,
};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Dir,
    File {
        exec: bool,
    },
    /// Links, devices, FIFOs: not extracted.
    Skip,
}

fn too_many(l: Limits) -> String {
    format!("skill archive exceeds {} members", l.members)
}

fn too_big(l: Limits) -> String {
    format!("skill archive exceeds {} bytes decompressed", l.bytes)
}

/// The segments of a member name, without empty and `.` ones.
fn segments(name: &str) -> Vec<&str> {
    name.split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != ".")
        .collect()
}

/// The wrapper directory to strip: the first segment shared by every
/// member, when at least one member lies below it.
fn wrapper(names: &[String]) -> Option<String> {
    let first = segments(names.first()?).first()?.to_string();
    let mut nested = false;
    for n in names {
        let segs = segments(n);
        if segs.first() != Some(&first.as_str()) {
            return None;
        }
        nested |= segs.len() > 1;
    }
    nested.then_some(first)
}

/// Where a member goes, relative to the destination (no `..`), or `None`
/// for the bare wrapper entry.
fn target(name: &str, strip: Option<&str>) -> Result<Option<PathBuf>, String> {
    let mut segs = segments(name);
    if let Some(w) = strip {
        if segs.first() == Some(&w) {
            segs.remove(0);
        }
        if segs.is_empty() {
            return Ok(None);
        }
    }
    let rel = clean(Path::new(&format!("/{}", segs.join("/"))));
    let rel = rel.strip_prefix("/").unwrap_or(&rel).to_path_buf();
    if rel.as_os_str().is_empty() {
        return Err(format!("refusing archive member {name:?}"));
    }
    Ok(Some(rel))
}

/// Writes one member at `rel` beneath `dest`, counting its bytes against
/// `budget`.
fn write_member(
    dest: &Dir,
    rel: &Path,
    kind: Kind,
    data: &mut dyn Read,
    budget: &mut u64,
    limits: Limits,
) -> Result<(), String> {
    let io = |e: io::Error| format!("{}: {e}", rel.display());
    match kind {
        Kind::Skip => Ok(()),
        Kind::Dir => dest.create_dirs(rel, 0o755).map(drop).map_err(io),
        Kind::File { exec } => {
            let parent = dest
                .create_dirs(rel.parent().unwrap_or(Path::new("")), 0o755)
                .map_err(io)?;
            let name = rel
                .file_name()
                .ok_or_else(|| io(io::ErrorKind::InvalidInput.into()))?;
            // A later member of the same name replaces the earlier one; an
            // entry already there is removed, never written through.
            parent.remove_all(name).map_err(io)?;
            let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL;
            let fd = parent
                .open_at(name, flags, if exec { 0o755 } else { 0o644 })
                .map_err(io)?;
            let mut f = File::from(fd);
            let copied = io::copy(&mut data.take(*budget + 1), &mut f).map_err(io)?;
            if copied > *budget {
                return Err(too_big(limits));
            }
            *budget -= copied;
            Ok(())
        }
    }
}

/// Extracts `archive` into `dest` (which must exist and be empty).
pub fn extract(archive: &Path, dest: &Dir) -> Result<(), String> {
    extract_within(archive, dest, LIMITS)
}

/// [`extract`] with other limits.
pub fn extract_within(archive: &Path, dest: &Dir, limits: Limits) -> Result<(), String> {
    let mut f = File::open(archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    let mut head = [0u8; 4];
    let n = f.read(&mut head).map_err(|e| e.to_string())?;
    f.rewind().map_err(|e| e.to_string())?;
    if n >= 4 && head == *b"PK\x03\x04" {
        extract_zip(f, dest, limits)
    } else {
        extract_tar(archive, &head[..n], dest, limits)
    }
}

fn extract_zip(f: File, dest: &Dir, limits: Limits) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(f).map_err(|e| format!("reading zip: {e}"))?;
    if zip.len() > limits.members {
        return Err(too_many(limits));
    }
    let mut names = Vec::with_capacity(zip.len());
    let mut declared = 0u64;
    for i in 0..zip.len() {
        let m = zip
            .by_index_raw(i)
            .map_err(|e| format!("reading zip: {e}"))?;
        declared = declared.saturating_add(m.size());
        names.push(String::from_utf8_lossy(m.name_raw()).into_owned());
    }
    if declared > limits.bytes {
        return Err(too_big(limits));
    }
    let strip = wrapper(&names);
    let mut budget = limits.bytes;
    for i in 0..zip.len() {
        let mut m = zip.by_index(i).map_err(|e| format!("reading zip: {e}"))?;
        let kind = if m.is_symlink() {
            Kind::Skip
        } else if m.is_dir() {
            Kind::Dir
        } else {
            Kind::File {
                exec: m.unix_mode().is_some_and(|mode| mode & 0o111 != 0),
            }
        };
        let name = String::from_utf8_lossy(m.name_raw()).into_owned();
        if let Some(rel) = target(&name, strip.as_deref())? {
            write_member(dest, &rel, kind, &mut m, &mut budget, limits)?;
        }
    }
    Ok(())
}

/// A fresh reader over the (decompressed) tar stream.
fn tar_reader(archive: &Path, head: &[u8]) -> Result<Box<dyn Read>, String> {
    let f = File::open(archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(f))
    } else if head.starts_with(b"BZh") {
        Box::new(bzip2::read::BzDecoder::new(f))
    } else {
        Box::new(f)
    })
}

fn tar_kind(entry: &tar::Entry<'_, Box<dyn Read>>) -> Kind {
    use tar::EntryType as T;
    let mode = entry.header().mode().unwrap_or(0o644);
    match entry.header().entry_type() {
        T::Directory => Kind::Dir,
        T::Regular | T::Continuous | T::GNUSparse => Kind::File {
            exec: mode & 0o111 != 0,
        },
        _ => Kind::Skip,
    }
}

fn extract_tar(archive: &Path, head: &[u8], dest: &Dir, limits: Limits) -> Result<(), String> {
    let bad = |e: io::Error| format!("reading tar: {e}");
    // First pass: count members and declared sizes.
    let mut names = Vec::new();
    let mut declared = 0u64;
    let mut tar = tar::Archive::new(tar_reader(archive, head)?);
    for entry in tar.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        if names.len() == limits.members {
            return Err(too_many(limits));
        }
        if tar_kind(&entry) != Kind::Skip {
            declared = declared.saturating_add(entry.header().size().unwrap_or(0));
        }
        names.push(String::from_utf8_lossy(&entry.path_bytes()).into_owned());
    }
    if declared > limits.bytes {
        return Err(too_big(limits));
    }
    let strip = wrapper(&names);
    let mut budget = limits.bytes;
    let mut tar = tar::Archive::new(tar_reader(archive, head)?);
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let kind = tar_kind(&entry);
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if let Some(rel) = target(&name, strip.as_deref())? {
            write_member(dest, &rel, kind, &mut entry, &mut budget, limits)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_bytes(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data, mode) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            h.set_entry_type(if name.ends_with('/') {
                tar::EntryType::Directory
            } else {
                tar::EntryType::Regular
            });
            h.set_path(name).unwrap();
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_path("skill/evil").unwrap();
        link.set_link_name("/etc/passwd").unwrap();
        link.set_size(0);
        link.set_cksum();
        b.append(&link, &[][..]).unwrap();
        b.into_inner().unwrap()
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                out.extend(files(&e.path()).into_iter().map(|f| format!("{name}/{f}")));
            } else {
                out.push(name);
            }
        }
        out.sort();
        out
    }

    fn check_layout(dest: &Path) {
        assert_eq!(files(dest), ["SKILL.md", "scripts/run.sh"]);
        let mode = std::fs::metadata(dest.join("scripts/run.sh"))
            .unwrap()
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o755
        );
        let mode = std::fs::metadata(dest.join("SKILL.md"))
            .unwrap()
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o644
        );
    }

    #[test]
    fn tar_gz_bz2_and_zip_extract_with_the_wrapper_stripped() {
        let t = tempfile::tempdir().unwrap();
        let plain = tar_bytes(&[
            ("skill/", b"", 0o755),
            ("skill/SKILL.md", b"# skill", 0o644),
            ("skill/scripts/run.sh", b"echo", 0o755),
        ]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&plain).unwrap();
        let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        zw.start_file("skill/SKILL.md", opts.unix_permissions(0o644))
            .unwrap();
        zw.write_all(b"# skill").unwrap();
        zw.start_file("skill/scripts/run.sh", opts.unix_permissions(0o755))
            .unwrap();
        zw.write_all(b"echo").unwrap();
        let zip = zw.finish().unwrap().into_inner();
        for (name, bytes) in [
            ("plain", plain),
            ("gz", gz.finish().unwrap()),
            ("bz2", bz.finish().unwrap()),
            ("zip", zip),
        ] {
            let archive = t.path().join(format!("{name}.bin"));
            std::fs::write(&archive, bytes).unwrap();
            let dest = t.path().join(format!("out-{name}"));
            std::fs::create_dir(&dest).unwrap();
            extract(&archive, &Dir::open(&dest).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
            check_layout(&dest);
        }
    }

    #[test]
    fn extraction_never_writes_through_a_planted_link() {
        let t = tempfile::tempdir().unwrap();
        let (outside, dest) = (t.path().join("outside"), t.path().join("dest"));
        std::fs::create_dir_all(outside.join("scripts")).unwrap();
        std::fs::create_dir_all(&dest).unwrap();
        std::fs::write(outside.join("keep.md"), "mine").unwrap();
        std::os::unix::fs::symlink(outside.join("keep.md"), dest.join("SKILL.md")).unwrap();
        std::os::unix::fs::symlink(outside.join("scripts"), dest.join("scripts")).unwrap();
        let archive = t.path().join("a.tar");
        std::fs::write(
            &archive,
            tar_bytes(&[
                ("skill/SKILL.md", b"# skill", 0o644),
                ("skill/scripts/run.sh", b"echo", 0o755),
            ]),
        )
        .unwrap();
        let err = extract(&archive, &Dir::open(&dest).unwrap()).unwrap_err();
        assert!(err.starts_with("scripts/run.sh: "), "{err}");
        assert_eq!(
            std::fs::read_to_string(outside.join("keep.md")).unwrap(),
            "mine"
        );
        assert!(
            std::fs::read_dir(outside.join("scripts"))
                .unwrap()
                .next()
                .is_none()
        );
        // The planted link was replaced by the member itself.
        assert_eq!(
            std::fs::read_to_string(dest.join("SKILL.md")).unwrap(),
            "# skill"
        );
    }

    #[test]
    fn members_cannot_climb_out_and_limits_hold() {
        assert_eq!(
            target("../../etc/x", None).unwrap(),
            Some(PathBuf::from("etc/x"))
        );
        assert_eq!(
            target("/abs/y", None).unwrap(),
            Some(PathBuf::from("abs/y"))
        );
        assert_eq!(target("w/", Some("w")).unwrap(), None);
        assert_eq!(
            target("..", None).unwrap_err(),
            "refusing archive member \"..\""
        );
        assert_eq!(wrapper(&["a/x".into(), "a/".into()]), Some("a".into()));
        assert_eq!(wrapper(&["a/x".into(), "b/y".into()]), None);
        assert_eq!(wrapper(&["a".into()]), None);
        let t = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..=MAX_MEMBERS).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, &[u8], u32)> = names
            .iter()
            .map(|n| (n.as_str(), &b""[..], 0o644))
            .collect();
        let archive = t.path().join("many.tar");
        std::fs::write(&archive, tar_bytes(&entries)).unwrap();
        let dest = t.path().join("out");
        std::fs::create_dir(&dest).unwrap();
        assert_eq!(
            extract(&archive, &Dir::open(&dest).unwrap()).unwrap_err(),
            "skill archive exceeds 10000 members"
        );
    }

    #[test]
    fn the_decompressed_size_limit_holds_for_tar_and_zip() {
        assert_eq!(
            too_big(LIMITS),
            "skill archive exceeds 1073741824 bytes decompressed"
        );
        let t = tempfile::tempdir().unwrap();
        let small = Limits {
            members: MAX_MEMBERS,
            bytes: 10,
        };
        let tar = tar_bytes(&[("a", b"123456", 0o644), ("b", b"123456", 0o644)]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for name in ["a", "b"] {
            zw.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zw.write_all(b"123456").unwrap();
        }
        let zip = zw.finish().unwrap().into_inner();
        for (name, bytes) in [("tar", tar), ("tgz", gz.finish().unwrap()), ("zip", zip)] {
            let archive = t.path().join(name);
            std::fs::write(&archive, bytes).unwrap();
            let dest = t.path().join(format!("out-{name}"));
            std::fs::create_dir(&dest).unwrap();
            assert_eq!(
                extract_within(&archive, &Dir::open(&dest).unwrap(), small).unwrap_err(),
                "skill archive exceeds 10 bytes decompressed",
                "{name}"
            );
            let roomy = Limits { bytes: 12, ..small };
            let dest = t.path().join(format!("fits-{name}"));
            std::fs::create_dir(&dest).unwrap();
            extract_within(&archive, &Dir::open(&dest).unwrap(), roomy)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        // A member bigger than its declared size is cut off at the budget.
        let mut budget = 4;
        let err = write_member(
            &Dir::open(t.path()).unwrap(),
            Path::new("liar"),
            Kind::File { exec: false },
            &mut &b"123456"[..],
            &mut budget,
            small,
        )
        .unwrap_err();
        assert_eq!(err, "skill archive exceeds 10 bytes decompressed");
    }
}
