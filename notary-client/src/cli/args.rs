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
    /// Operates on keys.
    Key {
        /// The key command.
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Print the version number of notary
    Version,
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
}
