//! Publishing to a TUF 1.0 collection of our `notary-server` (`/v2/<gun>/_tuf/`), as a test
//! publisher: it signs root, targets and delegations with [`tuf_core::editor::RepoEditor`]
//! and leaves snapshot and timestamp to the server's keys.

use reqwest::blocking::{multipart, Client};
use tuf_core::crypto::Key;
use tuf_core::editor::SignedFile;
use tuf_core::name::percent_encode_segment;
use tuf_core::Dialect;

/// One TUF collection on a running server.
#[derive(Debug, Clone)]
pub struct TufCollection {
    client: Client,
    base: String,
}

impl TufCollection {
    /// The collection `gun` on the server at `server_url` (e.g. `http://127.0.0.1:4443`).
    pub fn new(server_url: &str, gun: &str) -> Self {
        Self {
            client: Client::new(),
            base: format!("{}/v2/{gun}/_tuf/", server_url.trim_end_matches('/')),
        }
    }

    /// The metadata base URL clients use.
    pub fn metadata_url(&self) -> String {
        format!("{}metadata/", self.base)
    }

    /// The targets base URL clients use.
    pub fn targets_url(&self) -> String {
        format!("{}targets/", self.base)
    }

    /// `GET` (`rotate == false`) or `POST` (a new pending key) `keys/<role>.key`, as a TUF key.
    ///
    /// # Errors
    /// A message with the status and body.
    pub fn server_key(&self, role: &str, rotate: bool) -> Result<Key, String> {
        let url = format!("{}keys/{role}.key", self.base);
        let req = if rotate {
            self.client.post(&url)
        } else {
            self.client.get(&url)
        };
        let resp = req.send().map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status();
        let body = resp.bytes().map_err(|e| format!("{url}: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "{url}: {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let v = tuf_core::json::parse(&body).map_err(|e| format!("{url}: {e}"))?;
        Key::from_json(Dialect::TufSpec, &v).map_err(|e| format!("{url}: {e}"))
    }

    /// Publishes metadata files and target files in one request.
    ///
    /// # Errors
    /// `(status, body)` of a refusal, or `(0, message)` if the request failed.
    pub fn publish(
        &self,
        files: &[SignedFile],
        targets: &[(&str, &[u8])],
    ) -> Result<(), (u16, String)> {
        let mut form = multipart::Form::new();
        for f in files {
            let part = multipart::Part::bytes(f.bytes.clone())
                .file_name(format!("{}.json", percent_encode_segment(&f.role)));
            form = form.part("metadata", part);
        }
        for (path, data) in targets {
            let part =
                multipart::Part::bytes(data.to_vec()).file_name(percent_encode_segment(path));
            form = form.part("target", part);
        }
        let resp = self
            .client
            .post(&self.base)
            .multipart(form)
            .send()
            .map_err(|e| (0, e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp.text().unwrap_or_default();
        if status == 200 {
            Ok(())
        } else {
            Err((status, body))
        }
    }

    /// `GET <base><path>`: status and body.
    ///
    /// # Errors
    /// A message if the request failed.
    pub fn get(&self, path: &str) -> Result<(u16, Vec<u8>), String> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .client
            .get(&url)
            .send()
            .map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().map_err(|e| format!("{url}: {e}"))?.to_vec();
        Ok((status, body))
    }
}
