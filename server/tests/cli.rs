//! The `plein` binary's one-shot commands, run as a real process.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "een sterk wachtwoord voor het script";

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> anyhow::Result<Workspace> {
        Ok(Workspace {
            dir: tempfile::tempdir()?,
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_plein"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("PLEIN_CONFIG")
            .env("PLEIN_DATA_DIR", self.dir.path().join("data"))
            .env("PLEIN_LOG", "warn");
        command
    }

    fn run(&self, args: &[&str], stdin: &str) -> anyhow::Result<Output> {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes())?;
        }
        Ok(child.wait_with_output()?)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn migrate_creates_the_data_dir_and_the_sqlite_database() -> anyhow::Result<()> {
    let workspace = Workspace::new()?;
    let output = workspace.run(&["migrate"], "")?;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(workspace.dir.path().join("data/plein.db").exists());
    // Running it again is a no-op.
    assert!(workspace.run(&["migrate"], "")?.status.success());
    Ok(())
}

#[test]
fn admin_create_reads_the_password_from_stdin_and_refuses_a_duplicate_email() -> anyhow::Result<()>
{
    let workspace = Workspace::new()?;
    let output = workspace.run(
        &[
            "admin",
            "create",
            "--email",
            "Wim@Plein.example",
            "--name",
            "Wim de Boer",
        ],
        &format!("{PASSWORD}\n"),
    )?;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("Wim de Boer"));

    let duplicate = workspace.run(
        &[
            "admin",
            "create",
            "--email",
            "wim@plein.example",
            "--name",
            "Wim Twee",
        ],
        &format!("{PASSWORD}\n"),
    )?;
    assert!(!duplicate.status.success());
    let message = text(&duplicate.stderr);
    assert!(message.contains("already exists"), "{message}");
    Ok(())
}

#[test]
fn admin_create_refuses_a_short_or_missing_password() -> anyhow::Result<()> {
    let workspace = Workspace::new()?;
    let short = workspace.run(
        &[
            "admin",
            "create",
            "--email",
            "a@plein.example",
            "--name",
            "A",
        ],
        "kort\n",
    )?;
    assert!(!short.status.success());
    assert!(
        text(&short.stderr).contains("password"),
        "{}",
        text(&short.stderr)
    );
    let missing = workspace.run(
        &[
            "admin",
            "create",
            "--email",
            "a@plein.example",
            "--name",
            "A",
        ],
        "",
    )?;
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("standard input"),
        "{}",
        text(&missing.stderr)
    );
    Ok(())
}

#[test]
fn token_create_prints_the_secret_alone_on_the_last_line() -> anyhow::Result<()> {
    let workspace = Workspace::new()?;
    let output = workspace.run(
        &[
            "token", "create", "--name", "Entra ID", "--scope", "scim", "--scope", "admin",
        ],
        "",
    )?;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("plein_") && !last.contains(' ') && last.len() > 40,
        "{stdout}"
    );

    let unknown_scope =
        workspace.run(&["token", "create", "--name", "x", "--scope", "root"], "")?;
    assert!(!unknown_scope.status.success());
    Ok(())
}

#[test]
fn invalid_configuration_fails_at_start_naming_the_key() -> anyhow::Result<()> {
    let workspace = Workspace::new()?;
    let output = workspace
        .command(&["migrate"])
        .env("PLEIN_BIND", "not-an-address")
        .output()?;
    assert!(!output.status.success());
    let message = text(&output.stderr).to_lowercase();
    assert!(message.contains("bind"), "{message}");

    let typo = workspace
        .command(&["migrate"])
        .env("PLEIN_DATABSE_URL", "sqlite://x.db")
        .output()?;
    assert!(!typo.status.success());
    assert!(
        text(&typo.stderr).to_lowercase().contains("databse_url"),
        "{}",
        text(&typo.stderr)
    );

    std::fs::write(
        workspace.dir.path().join("plein.toml"),
        "log_format = \"xml\"\n",
    )?;
    let bad_file = workspace.command(&["migrate"]).output()?;
    assert!(!bad_file.status.success());
    assert!(
        text(&bad_file.stderr).contains("log_format"),
        "{}",
        text(&bad_file.stderr)
    );
    Ok(())
}

#[test]
fn serve_prints_a_setup_link_and_stops_gracefully_on_sigterm() -> anyhow::Result<()> {
    let workspace = Workspace::new()?;
    let mut child = workspace
        .command(&["serve"])
        .env("PLEIN_BIND", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let mut reader = std::io::BufReader::new(stderr);
    let mut link = None;
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut reader, &mut line)? > 0 {
        if let Some(start) = line.find("/setup?token=") {
            link = Some(line[start..].trim().to_owned());
            break;
        }
        line.clear();
    }
    let link = link.ok_or_else(|| anyhow::anyhow!("no setup link printed"))?;
    assert!(link.len() > "/setup?token=".len() + 40, "{link}");
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status()?;
    assert!(killed.success());
    let status = child.wait()?;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    Ok(())
}

#[test]
fn reindex_rebuilds_the_search_index_from_the_database() -> anyhow::Result<()> {
    let workspace = Workspace::new()?;
    let created = workspace.run(
        &[
            "admin",
            "create",
            "--email",
            "anke@plein.example",
            "--name",
            "Anke van Rijnsoever",
        ],
        &format!("{PASSWORD}\n"),
    )?;
    assert!(created.status.success(), "{}", text(&created.stderr));
    let output = workspace.run(&["reindex"], "")?;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("rebuilt with 1 people"),
        "{}",
        text(&output.stdout)
    );
    assert!(workspace.dir.path().join("data/search/meta.json").exists());
    Ok(())
}

#[test]
fn import_people_reports_counts_and_a_bad_file_fails_naming_its_lines() -> anyhow::Result<()> {
    let workspace = Workspace::new()?;
    let good = workspace.dir.path().join("people.csv");
    std::fs::write(
        &good,
        "employee_id;given_name;family_name;email;manager_employee_id\n\
         E2;Koen;in 't Veld;koen@plein.example;E1\n\
         E1;Anne;de Vries;anne@plein.example;\n",
    )?;
    let path = good.to_string_lossy().into_owned();
    let dry = workspace.run(&["import", "people", &path, "--dry-run"], "")?;
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains("2 rows: 2 would be created"),
        "{}",
        text(&dry.stdout)
    );
    let applied = workspace.run(&["import", "people", &path], "")?;
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    assert!(text(&applied.stdout).contains("2 were created"));
    let again = workspace.run(&["import", "people", &path], "")?;
    assert!(
        text(&again.stdout).contains("2 unchanged"),
        "{}",
        text(&again.stdout)
    );

    let bad = workspace.dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "employee_id,given_name,family_name,email\nE3,Bas,Bos,geen-adres\nE4,,Dam,dam@plein.example\n",
    )?;
    let refused = workspace.run(&["import", "people", &bad.to_string_lossy()], "")?;
    assert!(!refused.status.success());
    let message = text(&refused.stderr);
    assert!(message.contains("line 2 (E3) email:"), "{message}");
    assert!(message.contains("line 3 (E4) given_name:"), "{message}");
    let missing = workspace.run(&["import", "people", "nowhere.csv"], "")?;
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("nowhere.csv"));
    Ok(())
}

#[test]
fn demo_loads_the_same_company_for_the_same_seed_and_prints_logins() -> anyhow::Result<()> {
    let workspace = Workspace::new()?;
    let first = workspace.run(
        &["demo", "--people", "300", "--seed", "5", "--no-serve"],
        "",
    )?;
    assert!(first.status.success(), "{}", text(&first.stderr));
    let output = text(&first.stdout);
    assert!(output.contains("300 rows: 300 were created"), "{output}");
    let logins: Vec<&str> = output
        .lines()
        .filter(|line| line.contains("@demo.plein.nl"))
        .collect();
    assert_eq!(logins.len(), 3, "{output}");
    let second = workspace.run(
        &["demo", "--people", "300", "--seed", "5", "--no-serve"],
        "",
    )?;
    assert!(
        text(&second.stdout).contains("300 unchanged"),
        "{}",
        text(&second.stdout)
    );
    Ok(())
}
