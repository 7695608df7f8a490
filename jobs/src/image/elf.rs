//! Just enough ELF reading to copy a dynamically linked program into an
//! image: its machine, its interpreter (`PT_INTERP`) and the libraries it
//! names (`DT_NEEDED`). 64-bit little-endian files only.

use std::path::PathBuf;

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NEEDED: usize = 1;
const DT_STRTAB: usize = 5;

/// What the dynamic loader needs to run an ELF file.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Elf {
    /// `e_machine`: a library must match its program's.
    pub machine: u16,
    /// The loader named by `PT_INTERP`; `None` for static programs and
    /// libraries.
    pub(crate) interpreter: Option<PathBuf>,
    /// `DT_NEEDED` sonames, in order.
    pub(crate) needed: Vec<String>,
}

/// Parses a 64-bit little-endian ELF file; `None` for anything else or a
/// malformed one.
pub(super) fn parse(elf: &[u8]) -> Option<Elf> {
    if elf.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let mut out = Elf {
        machine: u16_at(elf, 0x12)?,
        ..Elf::default()
    };
    let (phoff, size, count) = (u64_at(elf, 0x20)?, u16_at(elf, 0x36)?, u16_at(elf, 0x38)?);
    let mut loads = Vec::new();
    let mut dynamic = None;
    for i in 0..count as usize {
        let ph = phoff.checked_add(i.checked_mul(size as usize)?)?;
        let (offset, vaddr, filesz) = (
            u64_at(elf, ph + 8)?,
            u64_at(elf, ph + 16)?,
            u64_at(elf, ph + 32)?,
        );
        match u32_at(elf, ph)? {
            PT_LOAD => loads.push((vaddr, offset, filesz)),
            PT_DYNAMIC => dynamic = Some((offset, filesz)),
            PT_INTERP => {
                let raw = elf.get(offset..offset.checked_add(filesz)?)?;
                let path = c_str(raw, 0)?;
                out.interpreter = Some(PathBuf::from(path));
            }
            _ => {}
        }
    }
    let Some((offset, filesz)) = dynamic else {
        return Some(out);
    };
    let mut needed = Vec::new();
    let mut strtab = None;
    for at in (offset..offset.checked_add(filesz)?).step_by(16) {
        let (tag, val) = (u64_at(elf, at)?, u64_at(elf, at + 8)?);
        match tag {
            0 => break,
            DT_NEEDED => needed.push(val),
            DT_STRTAB => strtab = Some(val),
            _ => {}
        }
    }
    if !needed.is_empty() {
        // DT_STRTAB is an address: find the file offset it was loaded from.
        let addr = strtab?;
        let (vaddr, off, _) = loads
            .iter()
            .find(|(v, _, sz)| addr >= *v && addr - v < *sz)?;
        let table = off.checked_add(addr - vaddr)?;
        for name in needed {
            out.needed
                .push(c_str(elf, table.checked_add(name)?)?.to_owned());
        }
    }
    Some(out)
}

fn c_str(bytes: &[u8], at: usize) -> Option<&str> {
    let rest = bytes.get(at..)?;
    let end = rest.iter().position(|b| *b == 0)?;
    std::str::from_utf8(&rest[..end]).ok()
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn u64_at(b: &[u8], at: usize) -> Option<usize> {
    let v = u64::from_le_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?);
    usize::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_host_program_and_refuses_junk() {
        let bytes = std::fs::read("/usr/bin/sort").unwrap();
        let elf = parse(&bytes).unwrap();
        assert!(elf.interpreter.is_some(), "{elf:?}");
        assert!(
            elf.needed.iter().any(|n| n.starts_with("libc.so")),
            "{elf:?}"
        );
        assert_eq!(parse(b"#!/bin/sh\n"), None);
        assert_eq!(parse(&bytes[..70]), None, "cut short");
    }
}
