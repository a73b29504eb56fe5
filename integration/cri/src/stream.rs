//! The streaming server's side of Exec, Attach and PortForward, spoken as kubectl does over a
//! WebSocket (the kubelet streaming protocol `v4.channel.k8s.io`): every binary message starts
//! with its channel's number — for exec and attach 0 stdin, 1 stdout, 2 stderr, 3 the final
//! status (JSON); for port-forward 0 data and 1 errors, each opened by the port (u16, LE).

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const PROTOCOL: &str = "v4.channel.k8s.io";
const STREAM_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Channels {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Everything a stream sent until it closed.
#[derive(Debug, Default)]
pub struct Received {
    /// Bytes per channel number.
    pub channels: [Vec<u8>; 5],
}

impl Received {
    pub fn text(&self, channel: usize) -> String {
        String::from_utf8_lossy(&self.channels[channel]).into_owned()
    }

    /// The exit status in the status channel: 0 for "Success", else the ExitCode cause.
    pub fn exit_code(&self) -> Result<i32> {
        let raw = self.text(3);
        let status: serde_json::Value =
            serde_json::from_str(&raw).with_context(|| format!("status channel {raw:?}"))?;
        if status["status"] == "Success" {
            return Ok(0);
        }
        let causes = status["details"]["causes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        causes
            .iter()
            .find(|c| c["reason"] == "ExitCode")
            .and_then(|c| c["message"].as_str()?.parse().ok())
            .with_context(|| format!("no exit code in status {raw}"))
    }
}

impl Channels {
    /// Connects to a URL the CRI returned (`http://127.0.0.1:PORT/exec/TOKEN`); `query` is added
    /// as the URL's query (port-forward names its ports there).
    pub async fn open(url: &str, query: &str) -> Result<Channels> {
        let ws_url = format!("{}{query}", url.replacen("http://", "ws://", 1));
        let mut request = ws_url
            .as_str()
            .into_client_request()
            .context("streaming URL")?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", PROTOCOL.parse()?);
        let connect = tokio_tungstenite::connect_async(request);
        let (ws, _) = tokio::time::timeout(STREAM_TIMEOUT, connect)
            .await
            .with_context(|| format!("connecting to {ws_url}: timed out"))?
            .with_context(|| format!("connecting to {ws_url}"))?;
        Ok(Channels { ws })
    }

    pub async fn send(&mut self, channel: u8, data: &[u8]) -> Result<()> {
        let mut message = vec![channel];
        message.extend_from_slice(data);
        self.ws
            .send(Message::binary(message))
            .await
            .context("sending on the stream")
    }

    /// The next message: (channel, data), or None once the server closed the stream.
    pub async fn next(&mut self) -> Result<Option<(usize, Vec<u8>)>> {
        loop {
            let message = tokio::time::timeout(STREAM_TIMEOUT, self.ws.next())
                .await
                .context("no message on the stream in 30 s")?;
            match message {
                None | Some(Ok(Message::Close(_))) => return Ok(None),
                Some(Err(e)) => bail!("stream: {e}"),
                Some(Ok(Message::Binary(data))) if !data.is_empty() => {
                    return Ok(Some((data[0] as usize, data[1..].to_vec())));
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Reads until the server closes the stream.
    pub async fn read_to_end(mut self) -> Result<Received> {
        let mut received = Received::default();
        while let Some((channel, data)) = self.next().await? {
            received
                .channels
                .get_mut(channel)
                .context("unknown channel")?
                .extend(data);
        }
        Ok(received)
    }

    /// Reads until `channel` has carried `needle`; what it carried.
    pub async fn read_until(&mut self, channel: usize, needle: &str) -> Result<String> {
        let mut seen = Vec::new();
        while !String::from_utf8_lossy(&seen).contains(needle) {
            match self.next().await? {
                Some((c, data)) if c == channel => seen.extend(data),
                Some(_) => {}
                None => {
                    bail!("stream closed before {needle:?} came; channel {channel} had {seen:?}")
                }
            }
        }
        Ok(String::from_utf8_lossy(&seen).into_owned())
    }

    pub async fn close(mut self) -> Result<()> {
        self.ws.close(None).await.context("closing the stream")
    }
}

/// A port-forward stream to one port: the port prefix the server sends first on each channel is
/// taken off.
pub struct Forward {
    channels: Channels,
}

impl Forward {
    pub async fn open(url: &str, port: u16) -> Result<Forward> {
        Ok(Forward {
            channels: Channels::open(url, &format!("?port={port}")).await?,
        })
    }

    pub async fn send(&mut self, data: &[u8]) -> Result<()> {
        self.channels.send(0, data).await
    }

    /// Data and errors until the pod side closes the connection.
    pub async fn read_to_end(self) -> Result<(Vec<u8>, String)> {
        let received = self.channels.read_to_end().await?;
        let strip = |bytes: &[u8]| bytes.get(2..).unwrap_or_default().to_vec();
        let data = strip(&received.channels[0]);
        let errors = String::from_utf8_lossy(&strip(&received.channels[1])).into_owned();
        Ok((data, errors))
    }
}

/// `GET path` over HTTP/1.0 through a port-forward to the pod's `port`: the whole response.
pub async fn http_get(cri: &crate::Cri, pod_id: &str, port: u16, path: &str) -> Result<String> {
    let url = cri.port_forward_url(pod_id, port.into()).await?;
    let mut forward = Forward::open(&url, port).await?;
    forward
        .send(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
        .await?;
    let (data, errors) = forward.read_to_end().await?;
    if !errors.is_empty() {
        bail!("port-forward to {port}: {errors}");
    }
    Ok(String::from_utf8_lossy(&data).into_owned())
}

/// Waits (up to 10 s) until a server listens on the pod's `port` and answers `GET /`; its answer.
pub async fn wait_for_http(cri: &crate::Cri, pod_id: &str, port: u16) -> Result<String> {
    let mut last = None;
    for _ in 0..50 {
        match http_get(cri, pod_id, port, "/").await {
            Ok(response) if !response.is_empty() => return Ok(response),
            Ok(_) => {}
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("empty answers")))
        .with_context(|| format!("nothing answered on port {port} of pod {pod_id} in 10 s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: &str) -> Received {
        let mut received = Received::default();
        received.channels[3] = json.as_bytes().to_vec();
        received
    }

    #[test]
    fn exit_codes_from_the_status_channel() {
        assert_eq!(
            status(r#"{"metadata":{},"status":"Success"}"#)
                .exit_code()
                .unwrap(),
            0
        );
        let failure = r#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code",
            "reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"5"}]}}"#;
        assert_eq!(status(failure).exit_code().unwrap(), 5);
        assert!(status("").exit_code().is_err());
        assert!(status(r#"{"status":"Failure"}"#).exit_code().is_err());
    }
}
