//! chromedriver and Chromium for the browser tests (`tests/map_page.rs`,
//! `tests/graphiql_page.rs`): where they are, and a driver process per test.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The program named by the environment variable `env` when it is set (and
/// exists), else the first of the candidates that exists, else a `PATH`
/// lookup of `name`.
pub fn find_program(env: &str, candidates: &[&str], name: &str) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists()).or_else(|| {
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.exists()))
    })
}

/// chromedriver and the browser it drives, or why the test cannot run.
pub fn browser() -> Result<(PathBuf, PathBuf), String> {
    let driver = find_program("MAILLAGE_CHROMEDRIVER", &["/usr/bin/chromedriver"], "chromedriver")
        .ok_or("chromedriver is not installed (Debian: apt-get install chromium chromium-driver)")?;
    let chromium = find_program(
        "MAILLAGE_CHROMIUM",
        &[
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ],
        "chromium",
    )
    .ok_or("chromium is not installed (Debian: apt-get install chromium chromium-driver)")?;
    Ok((driver, chromium))
}

/// chromedriver on a free loopback port, killed when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Driver {
    pub fn start(program: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
