// MCP client configs: write the bridge entry, find who uses it, migrate mcp-remote entries.
export { configSnippet, bridgeEntry, bridgeCommand, bridgeTargetOf, entrySlug, type BridgeServer, type Launcher, type Snippet } from './entries.js';
export { loadConfig, ConfigFileError, nodeClientFs, backupStamp, type ClientFs } from './config-file.js';
export { upsertBridgeEntry, type UpsertOptions, type UpsertResult } from './upsert.js';
export { CLIENTS, descriptor, installMarkers, isClientKind, type ClientDescriptor, type FileFormat, type EntryShape } from './descriptors.js';
export { entriesIn, textWithEntry, textWithoutEntries } from './entry-edit.js';
export { commandLineOf, type CommandLine } from './shapes.js';
export { CLIENT_KINDS, CLIENT_NAMES, clientConfigLocations, defaultConfigPath, homeDir, type ClientKind, type ClientName, type ClientFileLocation } from './locations.js';
export { findBridgeUsers, scanClientConfigs, type ScanOptions } from './scan.js';
export { parseMcpRemote, mcpRemoteHashes, type McpRemoteInvocation } from './mcp-remote.js';
export { migrationNotes, type MigrationNote, type NoteKind } from './mcp-remote-notes.js';
export { readMcpRemoteGrants, mcpRemoteAuthDir, summarizeGrant, deleteGrantFiles, type McpRemoteGrant, type McpRemoteTokens, type McpRemoteClientInfo, type GrantSummary } from './grants.js';
export { planMigration, applyMigration, type MigrationPlan, type PlannedEntry, type PlannedFile, type GrantToImport, type ImportGrant, type ApplyOptions, type ApplyResult } from './migrate.js';
export { importArgsOf, managerGrantImporter } from './import-grant.js';
export { clientFound, sharedConfigDirs, type FoundFacts } from './found.js';
export { runningLauncher, findCliBin, dataDirEnv, withDataDir, checkLauncher, assertLauncherWorks, type LauncherCheck } from './launcher.js';
