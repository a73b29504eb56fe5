//! The D-Bus calls of the systemd driver, over rustbus (blocking, no async runtime): the system
//! bus for root, the user's session bus for a rootless berth. Jobs are waited for through their
//! JobRemoved signal, as runc (go-systemd) waits, with runc's 30 s limit.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use rustbus::connection::Timeout;
use rustbus::message_builder::{MarshalledMessage, MessageBuilder};
use rustbus::wire::unmarshal::traits::Variant as InVariant;
use rustbus::wire::ObjectPath;
use rustbus::{MessageType, RpcConn};

use super::properties::{Property, Value};

const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";
const DEST: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const JOB_TIMEOUT: Duration = Duration::from_secs(30);
const CALL_TIMEOUT: Duration = Duration::from_secs(25);

type StrPairs = Vec<(String, String)>;
type StrU64s = Vec<(String, u64)>;
type Strs = Vec<String>;
type Bytes = Vec<u8>;
type U32s = Vec<u32>;

rustbus::dbus_variant_sig!(Wire,
    Bool => bool; Byte => u8; I16 => i16; U16 => u16; I32 => i32; U32 => u32; I64 => i64;
    U64 => u64; Str => String; Bytes => Bytes; U32s => U32s; Strs => Strs;
    StrPairs => StrPairs; StrU64s => StrU64s);

fn wire(v: &Value) -> Wire {
    match v.clone() {
        Value::Bool(b) => Wire::Bool(b),
        Value::Byte(n) => Wire::Byte(n),
        Value::I16(n) => Wire::I16(n),
        Value::U16(n) => Wire::U16(n),
        Value::I32(n) => Wire::I32(n),
        Value::U32(n) => Wire::U32(n),
        Value::I64(n) => Wire::I64(n),
        Value::U64(n) => Wire::U64(n),
        Value::Str(s) => Wire::Str(s),
        Value::Bytes(b) => Wire::Bytes(b),
        Value::U32s(v) => Wire::U32s(v),
        Value::Strs(v) => Wire::Strs(v),
        Value::StrPairs(v) => Wire::StrPairs(v),
        Value::StrU64s(v) => Wire::StrU64s(v),
    }
}

fn wire_props(props: &[Property]) -> Vec<(String, Wire)> {
    props
        .iter()
        .map(|p| (p.name.clone(), wire(&p.value)))
        .collect()
}

/// A connection to a systemd manager.
pub struct Bus {
    conn: RpcConn,
    subscribed: bool,
}

/// A D-Bus error reply: its name ("org.freedesktop.systemd1.UnitExists") and message.
#[derive(Debug)]
pub struct BusError {
    pub name: String,
    pub message: String,
}

impl std::fmt::Display for BusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.name)
    }
}

impl std::error::Error for BusError {}

fn is_bus_error(e: &anyhow::Error, name: &str) -> bool {
    e.downcast_ref::<BusError>().is_some_and(|b| b.name == name)
}

/// Connects and says hello within CALL_TIMEOUT. rustbus's authentication handshake waits on the
/// socket with no limit of its own, so it runs on a thread: one that does not answer in time is
/// left behind (berth fails and exits) instead of hanging the create.
fn connect_in_time(
    connect: impl FnOnce() -> Result<RpcConn, rustbus::connection::Error> + Send + 'static,
) -> Result<RpcConn> {
    let (tx, rx) = std::sync::mpsc::channel();
    let handshake = std::thread::spawn(move || {
        let _ = tx.send(connect().map_err(|e| anyhow!("{e}")));
    });
    let conn = rx
        .recv_timeout(CALL_TIMEOUT)
        .map_err(|_| anyhow!("no answer in {} s", CALL_TIMEOUT.as_secs()))??;
    // Gone before berth forks the container's init.
    let _ = handshake.join();
    Ok(conn)
}

impl Bus {
    /// The system bus, or (`user`) the session bus of the user berth runs as. The error is one
    /// line that names the bus.
    pub fn connect(user: bool) -> Result<Bus> {
        let timeout = Timeout::Duration(CALL_TIMEOUT);
        let conn = if user {
            if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
                let runtime = std::env::var("XDG_RUNTIME_DIR").map_err(|_| {
                    anyhow!("--systemd-cgroup (rootless): no user bus: neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set")
                })?;
                // rustbus reads the address from the environment only; berth is one thread here.
                std::env::set_var(
                    "DBUS_SESSION_BUS_ADDRESS",
                    format!("unix:path={runtime}/bus"),
                );
            }
            let addr = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default();
            connect_in_time(move || {
                rustbus::get_session_bus_path()
                    .and_then(|path| RpcConn::connect_to_path(path, timeout))
            })
            .map_err(|e| {
                    anyhow!("--systemd-cgroup: no systemd user manager: cannot connect to the session bus at {addr}: {e}")
                })?
        } else {
            connect_in_time(move || {
                rustbus::get_system_bus_path()
                    .and_then(|path| RpcConn::connect_to_path(path, timeout))
            })
            .map_err(|e| {
                    anyhow!("--systemd-cgroup: no systemd: cannot connect to the system bus at {SYSTEM_BUS}: {e}")
                })?
        };
        Ok(Bus {
            conn,
            subscribed: false,
        })
    }

    /// Sends `msg` and waits for its reply; an error reply becomes a `BusError`.
    fn call(&mut self, mut msg: MarshalledMessage) -> Result<MarshalledMessage> {
        let what = msg.dynheader.member.clone().unwrap_or_default();
        let serial = self
            .conn
            .send_message(&mut msg)
            .and_then(|ctx| {
                ctx.write_all()
                    .map_err(rustbus::connection::ll_conn::force_finish_on_error)
            })
            .with_context(|| format!("D-Bus {what}: send"))?;
        let reply = self
            .conn
            .wait_response(serial, Timeout::Duration(CALL_TIMEOUT))
            .with_context(|| format!("D-Bus {what}: no reply"))?;
        if reply.typ == MessageType::Error {
            let message = reply.body.parser().get::<String>().unwrap_or_default();
            return Err(BusError {
                name: reply.dynheader.error_name.clone().unwrap_or_default(),
                message,
            })
            .with_context(|| format!("D-Bus {what}"));
        }
        Ok(reply)
    }

    fn manager_call(member: &str) -> MarshalledMessage {
        MessageBuilder::new()
            .call(member)
            .with_interface(MANAGER)
            .on(PATH)
            .at(DEST)
            .build()
    }

    /// Asks for JobRemoved signals, before the first job: a job may end before its reply.
    fn subscribe(&mut self) -> Result<()> {
        if self.subscribed {
            return Ok(());
        }
        let rule = format!(
            "type='signal',sender='{DEST}',interface='{MANAGER}',member='JobRemoved',path='{PATH}'"
        );
        self.call(rustbus::standard_messages::add_match(&rule))?;
        self.call(Self::manager_call("Subscribe"))?;
        self.subscribed = true;
        Ok(())
    }

    /// A string property of the manager ("Version", "ControlGroup").
    pub fn manager_property(&mut self, name: &str) -> Result<String> {
        let mut msg = MessageBuilder::new()
            .call("Get")
            .with_interface("org.freedesktop.DBus.Properties")
            .on(PATH)
            .at(DEST)
            .build();
        msg.body.push_param2(MANAGER, name)?;
        let reply = self.call(msg)?;
        let v: InVariant = reply.body.parser().get()?;
        Ok(v.get::<String>()?)
    }

    /// The manager's version number ("252.30-1~deb12u2" → 252); 0 when unreadable.
    pub fn version(&mut self) -> u32 {
        let text = self.manager_property("Version").unwrap_or_default();
        let digits: String = text
            .trim_start_matches(['"', 'v'])
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap_or(0)
    }

    /// StartTransientUnit(unit, "replace", props), waiting for its job to be done. A unit of
    /// that name that exists (a failed leftover) is reset and the start tried once more, as
    /// runc does.
    pub fn start_unit(&mut self, unit: &str, props: &[Property]) -> Result<()> {
        self.subscribe()?;
        let mut retried = false;
        let job = loop {
            let mut msg = Self::manager_call("StartTransientUnit");
            msg.body.push_param2(unit, "replace")?;
            msg.body.push_param(wire_props(props))?;
            msg.body
                .push_param(Vec::<(String, Vec<(String, Wire)>)>::new())?;
            match self.call(msg) {
                Ok(reply) => break job_path(&reply)?,
                Err(e) if !retried && is_bus_error(&e, "org.freedesktop.systemd1.UnitExists") => {
                    retried = true;
                    if let Err(e) = self.reset_failed(unit) {
                        crate::logging::warn(format!("reset failed unit {unit}: {e:#}"));
                    }
                }
                Err(e) => return Err(e),
            }
        };
        match self.wait_job(&job) {
            Ok(result) if result == "done" => Ok(()),
            Ok(result) => {
                let _ = self.reset_failed(unit);
                bail!("error creating systemd unit `{unit}`: got `{result}`")
            }
            Err(e) => {
                let _ = self.reset_failed(unit);
                Err(e.context(format!("timeout waiting for systemd to create {unit}")))
            }
        }
    }

    /// StopUnit(unit, "replace"), waiting for the job; a unit that is gone already is fine.
    pub fn stop_unit(&mut self, unit: &str) -> Result<()> {
        self.subscribe()?;
        let mut msg = Self::manager_call("StopUnit");
        msg.body.push_param2(unit, "replace")?;
        let result = match self.call(msg) {
            Ok(reply) => {
                let job = job_path(&reply)?;
                let result = self.wait_job(&job).with_context(|| {
                    format!("timed out while waiting for systemd to remove {unit}")
                })?;
                if result != "done" {
                    crate::logging::warn(format!(
                        "error removing unit `{unit}`: got `{result}`. Continuing..."
                    ));
                }
                Ok(())
            }
            Err(e) if is_bus_error(&e, "org.freedesktop.systemd1.NoSuchUnit") => Ok(()),
            Err(e) => Err(e),
        };
        // A failed unit stays loaded until reset.
        let _ = self.reset_failed(unit);
        result
    }

    pub fn reset_failed(&mut self, unit: &str) -> Result<()> {
        let mut msg = Self::manager_call("ResetFailedUnit");
        msg.body.push_param(unit)?;
        self.call(msg).map(drop)
    }

    /// SetUnitProperties(unit, runtime=true, props).
    pub fn set_properties(&mut self, unit: &str, props: &[Property]) -> Result<()> {
        if props.is_empty() {
            return Ok(());
        }
        let mut msg = Self::manager_call("SetUnitProperties");
        msg.body.push_param2(unit, true)?;
        msg.body.push_param(wire_props(props))?;
        self.call(msg)
            .map(drop)
            .context("unable to set unit properties")
    }

    /// Waits for the JobRemoved signal of `job`; its result ("done", "failed", …).
    fn wait_job(&mut self, job: &str) -> Result<String> {
        let deadline = Instant::now() + JOB_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("no JobRemoved signal for {job} after {JOB_TIMEOUT:?}");
            }
            let signal = self
                .conn
                .wait_signal(Timeout::Duration(left))
                .with_context(|| format!("wait for the job {job}"))?;
            if signal.dynheader.member.as_deref() != Some("JobRemoved") {
                continue;
            }
            let mut parser = signal.body.parser();
            let (_id, path, _unit, result) =
                parser.get4::<u32, ObjectPath<String>, String, String>()?;
            if path.as_ref() == job {
                return Ok(result);
            }
        }
    }
}

fn job_path(reply: &MarshalledMessage) -> Result<String> {
    let path: ObjectPath<String> = reply.body.parser().get()?;
    Ok(path.as_ref().to_owned())
}
