//! The completion script of each shell. Each one only gathers the words of
//! the command line, runs `ant __complete`, and hands the candidates (or a
//! file completion after a prefix) to the shell.

/// A shell `ant @completion` knows.
pub struct Shell {
    /// The argument of `ant @completion`.
    pub name: &'static str,
    /// Its name in prose.
    pub title: &'static str,
    /// The file under `completions/`.
    pub file: &'static str,
    text: &'static str,
}

pub const SHELLS: &[Shell] = &[
    Shell {
        name: "bash",
        title: "bash",
        file: "ant.bash",
        text: include_str!("scripts/ant.bash"),
    },
    Shell {
        name: "zsh",
        title: "zsh",
        file: "_ant",
        text: include_str!("scripts/_ant"),
    },
    Shell {
        name: "fish",
        title: "fish",
        file: "ant.fish",
        text: include_str!("scripts/ant.fish"),
    },
    Shell {
        name: "pwsh",
        title: "PowerShell",
        file: "ant.ps1",
        text: include_str!("scripts/ant.ps1"),
    },
    Shell {
        name: "elvish",
        title: "elvish",
        file: "ant.elv",
        text: include_str!("scripts/ant.elv"),
    },
    Shell {
        name: "nushell",
        title: "nushell",
        file: "ant.nu",
        text: include_str!("scripts/ant.nu"),
    },
];

/// The script for `name` (`powershell` and `nu` are accepted too).
pub fn script_text(name: &str) -> Option<&'static str> {
    let name = match name {
        "powershell" => "pwsh",
        "nu" => "nushell",
        n => n,
    };
    SHELLS.iter().find(|s| s.name == name).map(|s| s.text)
}
