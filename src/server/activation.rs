//! systemd socket activation, read as `sd_listen_fds(3)` reads it: `LISTEN_PID` must be
//! this process, `LISTEN_FDS` counts the descriptors passed from fd 3 on.

use std::ffi::c_int;

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
pub(crate) const LISTEN_FDS_START: c_int = 3;

/// How many descriptors were passed to this process: 0 when the variables are unset or
/// meant for another process (a parent that did not clear them), `EINVAL` when they are
/// malformed. Marks the descriptors close-on-exec, as sd_listen_fds does, and removes the
/// variables when `unset` is set, so that children do not see them.
pub fn listen_fds(unset: bool) -> Result<c_int, c_int> {
    let result = read(std::env::var("LISTEN_PID").ok(), std::env::var("LISTEN_FDS").ok());
    if unset {
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
            std::env::remove_var(name);
        }
    }
    let n = result?;
    for fd in LISTEN_FDS_START..LISTEN_FDS_START + n {
        // SAFETY: fcntl on a descriptor number changes only its flags; a closed one fails.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        // SAFETY: as above.
        if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
            return Err(-std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EBADF));
        }
    }
    Ok(n)
}

fn read(pid: Option<String>, fds: Option<String>) -> Result<c_int, c_int> {
    let (Some(pid), Some(fds)) = (pid, fds) else { return Ok(0) };
    let pid: u32 = pid.trim().parse().map_err(|_| -libc::EINVAL)?;
    if pid != std::process::id() {
        return Ok(0);
    }
    let n: c_int = fds.trim().parse().map_err(|_| -libc::EINVAL)?;
    if !(0..=c_int::MAX - LISTEN_FDS_START).contains(&n) {
        return Err(-libc::EINVAL);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_variables_as_sd_listen_fds_does() {
        let me = std::process::id().to_string();
        assert_eq!(read(None, None), Ok(0));
        assert_eq!(read(Some(me.clone()), None), Ok(0));
        assert_eq!(read(Some("1".into()), Some("2".into())), Ok(0), "another process's");
        assert_eq!(read(Some(me.clone()), Some("2".into())), Ok(2));
        assert_eq!(read(Some(me.clone()), Some("x".into())), Err(-libc::EINVAL));
        assert_eq!(read(Some("pid".into()), Some("1".into())), Err(-libc::EINVAL));
        assert_eq!(read(Some(me), Some("-1".into())), Err(-libc::EINVAL));
    }
}
