//! Command-line arguments, named and shaped as Go `notary` 0.7's (cobra) flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Notary allows the creation and management of collections of signed targets, allowing the
/// signing and validation of arbitrary content.
#[derive(Debug, Parser)]
#[command(name = "notary", disable_version_flag = true)]
pub struct Cli {
    /// Global flags.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every command accepts.
#[derive(Debug, Args)]
pub struct Global {
    /// Path to the configuration file to use
    #[arg(short = 'c', long = "configFile", global = true)]
    pub config_file: Option<PathBuf>,
    /// Debug output
    #[arg(short = 'D', long = "debug", global = true)]
    pub debug: bool,
    /// Remote trust server location
    #[arg(short = 's', long = "server", global = true)]
    pub server: Option<String>,
    /// Trust certs signed only by this CA
    #[arg(long = "tlscacert", global = true)]
    pub tls_ca_cert: Option<PathBuf>,
    /// Path to TLS certificate file
    #[arg(long = "tlscert", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// Path to TLS key file
    #[arg(long = "tlskey", global = true)]
    pub tls_key: Option<PathBuf>,
    /// Directory where the trust data is persisted to
    #[arg(short = 'd', long = "trustDir", global = true)]
    pub trust_dir: Option<PathBuf>,
    /// Verbose output
    #[arg(short = 'v', long = "verbose", global = true)]
    pub verbose: bool,
    /// Print the version number of notary
    #[arg(long = "version")]
    pub version: bool,
    /// Read passphrases from this file (first line) instead of the environment or a prompt
    #[arg(long = "passphrase-file", global = true)]
    pub passphrase_file: Option<PathBuf>,
    /// Pin the root of the command's GUN to this root certificate key ID (as listed in its
    /// root.json; may repeat). Adds to trust_pinning.certs for the GUN; applies only when no
    /// root is cached yet (first use)
    #[arg(long = "pin-root-key", value_name = "KEYID", global = true)]
    pub pin_root_key: Vec<String>,
    /// PEM file of the CA certificate(s) YubiKey attestations must chain to, instead of
    /// Yubico's PIV root CA (also `$NOTARY_YUBIKEY_ATTESTATION_CA`)
    #[arg(long = "attestation-ca", value_name = "PEM", global = true)]
    pub attestation_ca: Option<PathBuf>,
}

/// `notary` commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Initializes a local trusted collection.
    Init {
        /// The GUN.
        gun: String,
        /// Automatically attempt to publish after staging the change.
        #[arg(short = 'p', long = "publish")]
        publish: bool,
        /// Root key to initialize the repository with
        #[arg(long = "rootkey")]
        root_key: Option<PathBuf>,
        /// Root certificate must match root key if a root key is supplied
        #[arg(long = "rootcert")]
        root_cert: Option<PathBuf>,
        /// Put the root key on the YubiKey with this serial (its slot 9c key, attested);
        /// repeat for several root keys on distinct devices
        #[arg(long = "root-yubikey", value_name = "SERIAL")]
        root_yubikeys: Vec<u32>,
        /// Root signatures needed (distinct devices), with --root-yubikey (default 1)
        #[arg(long = "root-threshold", value_name = "N", requires = "root_yubikeys")]
        root_threshold: Option<u32>,
    },
    /// Adds the file as a target to the trusted collection.
    Add {
        /// The GUN.
        gun: String,
        /// The target name.
        target: String,
        /// The file.
        file: PathBuf,
        /// Path to the file containing custom data for this target
        #[arg(long = "custom")]
        custom: Option<PathBuf>,
        /// Delegation roles to add this target to
        #[arg(short = 'r', long = "roles", value_delimiter = ',')]
        roles: Vec<String>,
        /// Automatically attempt to publish after staging the change.
        #[arg(short = 'p', long = "publish")]
        publish: bool,
    },
    /// Adds the byte size and hash(es) as a target to the trusted collection.
    Addhash {
        /// The GUN.
        gun: String,
        /// The target name.
        target: String,
        /// The byte size.
        size: u64,
        /// Path to the file containing custom data for this target
        #[arg(long = "custom")]
        custom: Option<PathBuf>,
        /// Delegation roles to add this target to
        #[arg(short = 'r', long = "roles", value_delimiter = ',')]
        roles: Vec<String>,
        /// hex encoded sha256 of the target to add
        #[arg(long = "sha256")]
        sha256: Option<String>,
        /// hex encoded sha512 of the target to add
        #[arg(long = "sha512")]
        sha512: Option<String>,
        /// Automatically attempt to publish after staging the change.
        #[arg(short = 'p', long = "publish")]
        publish: bool,
    },
    /// Removes a target from a trusted collection.
    Remove {
        /// The GUN.
        gun: String,
        /// The target name.
        target: String,
        /// Delegation roles to remove this target from
        #[arg(short = 'r', long = "roles", value_delimiter = ',')]
        roles: Vec<String>,
        /// Automatically attempt to publish after staging the change.
        #[arg(short = 'p', long = "publish")]
        publish: bool,
    },
    /// Lists targets for a remote trusted collection.
    List {
        /// The GUN.
        gun: String,
        /// Delegation roles to list targets for (will shadow targets role)
        #[arg(short = 'r', long = "roles", value_delimiter = ',')]
        roles: Vec<String>,
        /// Output format: table (default, as Go notary) or json
        #[arg(long = "output", default_value = "table")]
        output: String,
    },
    /// Looks up a specific target in a remote trusted collection.
    Lookup {
        /// The GUN.
        gun: String,
        /// The target name.
        target: String,
        /// Output format: text (default, as Go notary) or json
        #[arg(long = "output", default_value = "text")]
        output: String,
    },
    /// Verifies if the content is included in the remote trusted collection
    Verify {
        /// The GUN.
        gun: String,
        /// The target name.
        target: String,
        /// Read from a file, instead of STDIN
        #[arg(short = 'i', long = "input")]
        input: Option<PathBuf>,
        /// Write to a file, instead of STDOUT
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// No output except for errors
        #[arg(short = 'q', long = "quiet")]
        quiet: bool,
    },
    /// Publishes the local trusted collection.
    Publish {
        /// The GUN.
        gun: String,
    },
    /// Displays status of unpublished changes to the local trusted collection.
    Status {
        /// The GUN.
        gun: String,
        /// Output format: table (default, as Go notary) or json
        #[arg(long = "output", default_value = "table")]
        output: String,
    },
    /// Resets unpublished changes for the local trusted collection.
    Reset {
        /// The GUN.
        gun: String,
        /// Reset all changes shown in the status list
        #[arg(long = "all")]
        all: bool,
        /// Numbers of specific changes to exclusively reset, as shown in status list
        #[arg(short = 'n', long = "number", value_delimiter = ',')]
        number: Vec<usize>,
    },
    /// Deletes all content for a trusted collection
    Delete {
        /// The GUN.
        gun: String,
        /// Delete remote data for the GUN as well
        #[arg(long = "remote")]
        remote: bool,
    },
    /// Marks roles to be re-signed the next time they're published
    Witness {
        /// The GUN.
        gun: String,
        /// Roles to witness.
        #[arg(required = true)]
        roles: Vec<String>,
        /// Automatically attempt to publish after staging the change.
        #[arg(short = 'p', long = "publish")]
        publish: bool,
    },
    /// Operates on delegations.
    Delegation {
        /// The delegation command.
        #[command(subcommand)]
        command: DelegationCommand,
    },
    /// Operates on keys.
    Key {
        /// The key command.
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// YubiKeys holding root keys (an extra of this notary).
    Yubikey {
        /// The YubiKey command.
        #[command(subcommand)]
        command: YubikeyCommand,
    },
    /// Offline root ceremonies: export what needs signing, sign on the machine with the
    /// key, import the signatures (an extra of this notary).
    Root {
        /// The ceremony step.
        #[command(subcommand)]
        command: RootCommand,
    },
    /// Print the version number of notary
    Version,
}

/// `notary yubikey` commands.
#[derive(Debug, Subcommand)]
pub enum YubikeyCommand {
    /// Lists connected YubiKeys: serial, firmware, slot 9c key and policies, PIN state.
    List {
        /// Output format: table (default) or json
        #[arg(long = "output", default_value = "table")]
        output: String,
    },
    /// Prepares a YubiKey for a root key: replaces factory-default secrets, generates a
    /// P-256 key in slot 9c on the device (touch ALWAYS, PIN ALWAYS), verifies its
    /// attestation and records it in the trust directory.
    #[command(alias = "enroll")]
    Enrol {
        /// The device (required when several are connected)
        #[arg(long = "serial")]
        serial: Option<u32>,
        /// Keep factory-default PIN, PUK or management key (never for production roots)
        #[arg(long = "allow-default-secrets")]
        allow_default_secrets: bool,
        /// Replace a key already in slot 9c (destroys it)
        #[arg(long = "replace-key")]
        replace_key: bool,
        /// PIN policy of the new key: always (default) or once
        #[arg(long = "pin-policy", default_value = "always")]
        pin_policy: String,
        /// Write a newly generated management key (hex) to this new file (mode 0600)
        /// instead of showing it once on the terminal
        #[arg(long = "mgm-key-out", value_name = "FILE")]
        mgm_key_out: Option<PathBuf>,
    },
}

/// `notary root` ceremony commands.
#[derive(Debug, Subcommand)]
pub enum RootCommand {
    /// Writes a root signing request: the next root with new root keys on YubiKeys (their
    /// certificates are signed now, one touch each), and who must sign it.
    Request {
        /// The GUN.
        gun: String,
        /// YubiKey holding a new root key (repeat for several devices)
        #[arg(long = "yubikey", value_name = "SERIAL", required = true)]
        yubikeys: Vec<u32>,
        /// Root signatures the new root needs (distinct devices; default 1)
        #[arg(long = "threshold", value_name = "N")]
        threshold: Option<u32>,
        /// The request file to write
        #[arg(short = 'o', long = "output", required = true)]
        output: PathBuf,
    },
    /// Signs a request with the root key of a YubiKey (no trust directory or network
    /// needed); writes a detached signature.
    Sign {
        /// The request file.
        request: PathBuf,
        /// The YubiKey to sign with
        #[arg(long = "yubikey", value_name = "SERIAL", required = true)]
        yubikey: u32,
        /// The signature file to write
        #[arg(short = 'o', long = "output", required = true)]
        output: PathBuf,
    },
    /// Checks the signatures of a request against its thresholds and stages the signed root
    /// for the next `notary publish`.
    Import {
        /// The GUN.
        gun: String,
        /// The request file.
        request: PathBuf,
        /// Signature files.
        #[arg(required = true)]
        signatures: Vec<PathBuf>,
    },
}

/// `notary delegation` commands.
#[derive(Debug, Subcommand)]
pub enum DelegationCommand {
    /// Lists delegations for the GUN.
    List {
        /// The GUN.
        gun: String,
        /// Output format: table (default, as Go notary) or json
        #[arg(long = "output", default_value = "table")]
        output: String,
    },
    /// Adds keys (public key or X.509 certificate PEM files) to a delegation.
    Add {
        /// The GUN.
        gun: String,
        /// The delegation role (`targets/...`).
        role: String,
        /// PEM files with the keys to add.
        key_files: Vec<PathBuf>,
        /// Add all paths to this delegation
        #[arg(long = "all-paths")]
        all_paths: bool,
        /// List of paths to add
        #[arg(long = "paths", value_delimiter = ',')]
        paths: Vec<String>,
        /// Automatically attempt to publish after staging the change.
        #[arg(short = 'p', long = "publish")]
        publish: bool,
    },
    /// Removes key ids (or the whole role) from a delegation.
    Remove {
        /// The GUN.
        gun: String,
        /// The delegation role.
        role: String,
        /// Key ids to remove (none: the whole role).
        key_ids: Vec<String>,
        /// Remove all paths from this delegation
        #[arg(long = "all-paths")]
        all_paths: bool,
        /// List of paths to remove
        #[arg(long = "paths", value_delimiter = ',')]
        paths: Vec<String>,
        /// Answer yes to the removal question (no confirmation)
        #[arg(short = 'y', long = "yes")]
        yes: bool,
        /// Automatically attempt to publish after staging the change.
        #[arg(short = 'p', long = "publish")]
        publish: bool,
    },
    /// Removes key ids from every delegation role of the GUN.
    Purge {
        /// The GUN.
        gun: String,
        /// Delegation key IDs to be removed from the GUN
        #[arg(long = "key", value_delimiter = ',')]
        keys: Vec<String>,
        /// Automatically attempt to publish after staging the change.
        #[arg(short = 'p', long = "publish")]
        publish: bool,
    },
}

/// `notary key` commands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Lists keys.
    List {
        /// Output format: table (default, as Go notary) or json
        #[arg(long = "output", default_value = "table")]
        output: String,
    },
    /// Generates a new key (ECDSA).
    Generate {
        /// The algorithm (only ecdsa, as Go notary 0.7)
        algorithm: Option<String>,
        /// Role to generate key with, defaulting to "root".
        #[arg(short = 'r', long = "role", default_value = "root")]
        role: String,
        /// Filepath prefix to write the public (prefix.pem) and encrypted private
        /// (prefix-key.pem) key to, instead of the key store
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Rotates a role's key and publishes the change immediately.
    Rotate {
        /// The GUN.
        gun: String,
        /// The role: root, targets, snapshot or timestamp.
        role: String,
        /// New key(s) to rotate to. If not specified, one will be generated.
        #[arg(short = 'k', long = "key", value_delimiter = ',')]
        keys: Vec<PathBuf>,
        /// Number of old version's root roles to sign with to support old clients
        #[arg(short = 'l', long = "legacy", default_value_t = 0)]
        legacy: u32,
        /// Signing and key management will be handled by the remote server
        #[arg(short = 'r', long = "server-managed")]
        server_managed: bool,
        /// Rotate the root onto the key of the YubiKey with this serial (repeat for
        /// several devices); the old root signs the handover
        #[arg(long = "yubikey", value_name = "SERIAL")]
        yubikeys: Vec<u32>,
        /// Root signatures needed (distinct devices), with --yubikey (default 1)
        #[arg(long = "threshold", value_name = "N", requires = "yubikeys")]
        threshold: Option<u32>,
    },
    /// Imports keys from PEM files.
    Import {
        /// PEM files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Gun to import key with, if a gun is not already given in a PEM header
        #[arg(short = 'g', long = "gun")]
        gun: Option<String>,
        /// Role to import key with, if a role is not already given in a PEM header
        #[arg(short = 'r', long = "role")]
        role: Option<String>,
    },
    /// Exports keys (encrypted PEM blocks).
    Export {
        /// GUNs for which to export keys
        #[arg(long = "gun", value_delimiter = ',')]
        guns: Vec<String>,
        /// Key IDs to export
        #[arg(long = "key", value_delimiter = ',')]
        keys: Vec<String>,
        /// Filepath to write export output to
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Removes the key with the given key id.
    Remove {
        /// The key id.
        key_id: String,
    },
    /// Changes the passphrase of a key.
    Passwd {
        /// The key id.
        key_id: String,
    },
}
