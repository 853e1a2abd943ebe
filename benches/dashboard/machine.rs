//! What the machine did during a run, from `/proc` (Linux): CPU time of a
//! process, of PostgreSQL's processes, of the whole machine, and resident
//! memory.

use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc` CPU times (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

/// User + system CPU seconds of process `pid` (0 = this process).
pub fn process_cpu(pid: u32) -> f64 {
    let path = if pid == 0 {
        "/proc/self/stat".to_owned()
    } else {
        format!("/proc/{pid}/stat")
    };
    std::fs::read_to_string(path)
        .ok()
        .and_then(|stat| {
            // The command name may hold spaces; fields count from after it.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / TICKS)
        })
        .unwrap_or(0.0)
}

/// CPU seconds of every process named `postgres` (the database's backends).
pub fn database_cpu() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|name| name.trim() == "postgres")
        })
        .map(process_cpu)
        .sum()
}

/// Busy CPU seconds of the whole machine, all cores.
pub fn machine_cpu() -> f64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|stat| {
            let line = stat.lines().next()?;
            let values: Vec<f64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal
            let busy = values.first()?
                + values.get(1)?
                + values.get(2)?
                + values.get(5).unwrap_or(&0.0)
                + values.get(6).unwrap_or(&0.0)
                + values.get(7).unwrap_or(&0.0);
            Some(busy / TICKS)
        })
        .unwrap_or(0.0)
}

/// Resident memory of `pid` in MiB.
pub fn resident_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
            let kib: f64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kib / 1024.0)
        })
        .unwrap_or(0.0)
}

/// The cores of the machine.
pub fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
}

/// CPU counters at one moment.
#[derive(Clone, Copy)]
pub struct Sample {
    at: Instant,
    machine: f64,
    database: f64,
    server: f64,
    own: f64,
}

impl Sample {
    pub fn take(server: u32) -> Self {
        Self {
            at: Instant::now(),
            machine: machine_cpu(),
            database: database_cpu(),
            server: process_cpu(server),
            own: process_cpu(0),
        }
    }
}

/// CPU used between two samples.
pub struct Used {
    /// By the server under test, in seconds.
    pub server: f64,
    /// By PostgreSQL, in seconds.
    pub database: f64,
    /// By everything else (not the server, PostgreSQL or this client), as a
    /// share of the machine.
    pub others: f64,
}

pub fn used(before: Sample, after: Sample) -> Used {
    let wall = (after.at - before.at).as_secs_f64().max(1e-3);
    let server = after.server - before.server;
    let database = after.database - before.database;
    let own = after.own - before.own;
    let machine = after.machine - before.machine;
    let others = ((machine - server - database - own) / (wall * cores())).max(0.0);
    Used {
        server,
        database,
        others,
    }
}

/// Wait (at most `patience`) until the machine is idle: under `threshold`
/// of it busy over a second. Whether it became idle.
pub async fn wait_idle(threshold: f64, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    loop {
        let before = (Instant::now(), machine_cpu());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let busy = (machine_cpu() - before.1) / (before.0.elapsed().as_secs_f64() * cores());
        if busy < threshold {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
    }
}
