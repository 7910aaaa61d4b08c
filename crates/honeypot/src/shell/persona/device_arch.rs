//! The CPU of the BusyBox camera (`[honeypot.telnet] arch`): an ARMv7 HiSilicon
//! board or a little-endian MIPS Ingenic one, the two families most IP cameras
//! are built on. It decides everything that names the processor — `uname -m`,
//! the kernel build, /proc/cpuinfo, and the ELF header of every binary, which
//! is what a Mirai-like loader reads to pick its build (`arm7` or `mpsl`).

use serde::{Deserialize, Serialize};

/// The camera's processor.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// HiSilicon Hi3516DV300: Cortex-A7, `armv7l`, 32-bit little-endian ARM (EABI5).
    #[default]
    Arm,
    /// Ingenic T31: XBurst MIPS32r2, `mips`, 32-bit little-endian MIPS.
    Mipsel,
}

/// The first 64 bytes of `/bin/busybox` on ARM: ELF32 (EI_CLASS 1),
/// little-endian, ET_EXEC, e_machine 0x28, EABI5 flags, then the start of the
/// first program header. No byte is LF, CR or IAC, so a Telnet `cat` delivers
/// it byte for byte.
const ARM_ELF_HEADER: &[u8] = &[
    0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, // e_ident
    2, 0, 0x28, 0, 1, 0, 0, 0, // e_type, e_machine, e_version
    0xd8, 0xc0, 0, 0, 0x34, 0, 0, 0, 0xd4, 0xc3, 0x09, 0, // entry, phoff, shoff
    0x02, 0, 0, 0x05, 0x34, 0, 0x20, 0, 0x06, 0, 0x28, 0, 0x1c, 0, 0x1b,
    0, // flags .. shstrndx
    0x01, 0, 0, 0x70, 0xc4, 0xb2, 0x09, 0, 0xc4, 0xb2, 0x09, 0, // PT_ARM_EXIDX
];

/// The same on little-endian MIPS: e_machine 8, MIPS32r2 PIC/CPIC flags, then
/// the start of the PT_PHDR program header. No LF, CR or IAC either.
const MIPSEL_ELF_HEADER: &[u8] = &[
    0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, // e_ident
    2, 0, 0x08, 0, 1, 0, 0, 0, // e_type, e_machine, e_version
    0x50, 0x3f, 0x40, 0, 0x34, 0, 0, 0, 0xd4, 0xc3, 0x09, 0, // entry, phoff, shoff
    0x07, 0x10, 0, 0x70, 0x34, 0, 0x20, 0, 0x08, 0, 0x28, 0, 0x1c, 0, 0x1b,
    0, // flags .. shstrndx
    0x06, 0, 0, 0, 0x34, 0, 0, 0, 0x34, 0, 0x40, 0, // PT_PHDR
];

impl Arch {
    /// `uname -m`.
    pub fn machine(self) -> &'static str {
        match self {
            Arch::Arm => "armv7l",
            Arch::Mipsel => "mips",
        }
    }

    /// `uname -r`: the SoC vendor's kernel.
    pub fn kernel_release(self) -> &'static str {
        match self {
            Arch::Arm => "4.9.37",
            Arch::Mipsel => "3.10.14__isvp_swan_1.0__",
        }
    }

    /// `uname -v`.
    pub fn kernel_version(self) -> &'static str {
        match self {
            Arch::Arm => "#1 SMP Tue Jan 14 16:35:27 CST 2020",
            Arch::Mipsel => "#1 PREEMPT Wed Mar 3 10:21:19 CST 2021",
        }
    }

    /// The vendor toolchain in /proc/version.
    pub fn compiler(self) -> &'static str {
        match self {
            Arch::Arm => "gcc version 6.3.0 (HC&C V100R002C00B032_20190114) ",
            Arch::Mipsel => "gcc version 4.7.2 (Ingenic r2.3.3 2016.12) ",
        }
    }

    /// /proc/cpuinfo of `cpus` cores, in the kernel's format for the family.
    pub fn cpuinfo(self, cpus: u32) -> String {
        let mut out = String::new();
        match self {
            Arch::Arm => {
                for i in 0..cpus {
                    out.push_str(&format!(
                        "processor\t: {i}\nmodel name\t: ARMv7 Processor rev 5 (v7l)\nBogoMIPS\t: 100.00\n\
Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm \n\
CPU implementer\t: 0x41\nCPU architecture: 7\nCPU variant\t: 0x0\nCPU part\t: 0xc07\nCPU revision\t: 5\n\n"
                    ));
                }
                out.push_str("Hardware\t: Hisilicon Hi3516DV300 DEMO Board\nRevision\t: 0000\nSerial\t\t: 0000000000000000\n");
            }
            Arch::Mipsel => {
                out.push_str("system type\t\t: Ingenic Xburst\nmachine\t\t\t: isvp_swan\n");
                for i in 0..cpus {
                    out.push_str(&format!(
                        "processor\t\t: {i}\ncpu model\t\t: Ingenic Xburst V0.0  FPU V0.0\nBogoMIPS\t\t: 1392.64\n\
wait instruction\t: yes\nmicrosecond timers\t: no\ntlb_entries\t\t: 32\nextra interrupt vector\t: yes\n\
hardware watchpoint\t: yes, count: 1, address/irw mask: [0x0fff]\nisa\t\t\t: mips1 mips2 mips32r1 mips32r2\n\
ASEs implemented\t: mxu\nshadow register sets\t: 1\nkscratch registers\t: 0\ncore\t\t\t: 0\n\
VCED exceptions\t\t: not available\nVCEI exceptions\t\t: not available\n\n"
                    ));
                }
            }
        }
        out
    }

    /// The first 64 bytes of every binary.
    pub fn elf_header(self) -> &'static [u8] {
        match self {
            Arch::Arm => ARM_ELF_HEADER,
            Arch::Mipsel => MIPSEL_ELF_HEADER,
        }
    }

    /// What `file` says of a binary.
    pub fn elf_description(self) -> &'static str {
        match self {
            Arch::Arm => {
                "ELF 32-bit LSB executable, ARM, EABI5 version 1 (SYSV), dynamically linked, interpreter /lib/ld-uClibc.so.0, stripped"
            }
            Arch::Mipsel => {
                "ELF 32-bit LSB executable, MIPS, MIPS32 rel2 version 1 (SYSV), dynamically linked, interpreter /lib/ld-uClibc.so.0, stripped"
            }
        }
    }

    /// The board's Ethernet address (each vendor's range).
    pub fn mac(self) -> &'static str {
        match self {
            Arch::Arm => "00:12:41:3a:1c:2d",
            Arch::Mipsel => "a0:9f:10:3a:1c:2d",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elf_headers_name_each_processor_and_survive_a_telnet_cat() {
        for (arch, machine) in [(Arch::Arm, 0x28), (Arch::Mipsel, 0x08)] {
            let header = arch.elf_header();
            assert_eq!(&header[..4], b"\x7fELF");
            assert_eq!(header[4], 1, "EI_CLASS ELFCLASS32");
            assert_eq!(header[5], 1, "EI_DATA little-endian");
            assert_eq!(u16::from_le_bytes([header[18], header[19]]), machine);
            assert_eq!(header.len(), 64);
            assert!(!header.iter().any(|b| matches!(b, b'\n' | b'\r' | 0xff)));
        }
    }
}
