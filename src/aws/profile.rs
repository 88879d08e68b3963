//! A profile named by `AWS_PROFILE` that no file defines. The SDK's chain then reports only "the credential
//! provider was not enabled", which sent a newcomer looking at the instance metadata service; glctl names
//! the profile, the files it looked in, and the profiles those files do define.

use std::path::{Path, PathBuf};

/// Where the AWS CLI and the SDK read profiles, as the environment sets them.
pub struct Sources {
    /// `AWS_PROFILE`, when set and not empty.
    pub profile: Option<String>,
    /// Static credentials in the environment come first in the chain: a profile is not consulted then.
    pub static_credentials: bool,
    pub config_file: PathBuf,
    pub credentials_file: PathBuf,
}

impl Sources {
    pub fn from_env() -> Sources {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let home = var("HOME").map(PathBuf::from).unwrap_or_default();
        Sources {
            profile: var("AWS_PROFILE"),
            static_credentials: var("AWS_ACCESS_KEY_ID").is_some(),
            config_file: var("AWS_CONFIG_FILE").map(PathBuf::from).unwrap_or_else(|| home.join(".aws/config")),
            credentials_file: var("AWS_SHARED_CREDENTIALS_FILE")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".aws/credentials")),
        }
    }
}

/// Why the profile `AWS_PROFILE` names cannot be used, if no file defines it.
pub fn missing_profile(sources: &Sources) -> Option<String> {
    let wanted = sources.profile.as_deref().filter(|_| !sources.static_credentials)?;
    let mut known = profiles(&sources.config_file, true);
    known.extend(profiles(&sources.credentials_file, false));
    known.sort();
    known.dedup();
    if known.iter().any(|p| p == wanted) {
        return None;
    }
    let defined = if known.is_empty() { "none".to_string() } else { known.join(", ") };
    Some(format!(
        "AWS_PROFILE names profile `{wanted}`, which neither {} nor {} defines (profiles defined there: {defined})",
        sources.config_file.display(),
        sources.credentials_file.display()
    ))
}

/// The profile names of one file: `[profile NAME]` (and `[default]`) in the config file, `[NAME]` in the
/// credentials file. A file that does not exist defines none.
fn profiles(path: &Path, config_file: bool) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    parse_profiles(&text, config_file)
}

fn parse_profiles(text: &str, config_file: bool) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix('[')?.strip_suffix(']').map(str::trim))
        .filter_map(|section| {
            if !config_file {
                return Some(section.to_string());
            }
            match section.strip_prefix("profile") {
                Some(rest) if rest.starts_with(char::is_whitespace) => Some(rest.trim().to_string()),
                _ if section == "default" => Some(section.to_string()),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(dir: &Path, profile: Option<&str>, static_credentials: bool) -> Sources {
        Sources {
            profile: profile.map(str::to_string),
            static_credentials,
            config_file: dir.join("config"),
            credentials_file: dir.join("credentials"),
        }
    }

    #[test]
    fn a_misspelt_profile_is_named_with_the_files_and_the_profiles_they_define() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config"), "[default]\nregion = eu-west-1\n[profile prod]\n[sso-session x]\n")
            .unwrap();
        std::fs::write(dir.path().join("credentials"), "[ci]\naws_access_key_id = A\n").unwrap();
        let why = missing_profile(&sources(dir.path(), Some("prdo"), false)).expect("missing");
        assert!(why.contains("`prdo`") && why.contains("ci, default, prod"), "{why}");
        assert!(why.contains(&dir.path().join("config").display().to_string()), "{why}");
        for defined in ["prod", "ci", "default"] {
            assert_eq!(missing_profile(&sources(dir.path(), Some(defined), false)), None, "{defined}");
        }
    }

    #[test]
    fn no_profile_or_static_credentials_in_the_environment_need_no_profile_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(missing_profile(&sources(dir.path(), None, false)), None);
        assert_eq!(missing_profile(&sources(dir.path(), Some("any"), true)), None);
        let why = missing_profile(&sources(dir.path(), Some("any"), false)).expect("no files at all");
        assert!(why.contains("(profiles defined there: none)"), "{why}");
    }

    #[test]
    fn the_config_file_s_bare_sections_other_than_default_are_not_profiles() {
        assert_eq!(parse_profiles("[services x]\n[profile  a ]\n[default]\n[profileb]\n", true), vec!["a", "default"]);
        assert_eq!(parse_profiles("[a]\n # [b]\n", false), vec!["a"]);
    }
}
