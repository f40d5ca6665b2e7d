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
    /// Print the version number of notary
    Version,
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
