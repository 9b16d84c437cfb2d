// Package archive writes, verifies, reads and extracts backup archives: a tar
// stream compressed with zstd (one frame, with a content checksum) holding a
// manifest (MANIFEST.json, always the first entry) and then the files a backup
// changed against its base, under files/ in manifest order.
//
// An archive is the only copy of a backup's content once its snapshot ref is
// gone, so every read checks everything: the zstd checksum, every file's git
// blob ID, the manifest's bounds, and that the tar holds exactly the files the
// manifest names, in its order. Write only puts an archive in place after it
// has been synced and read back.
//
// The package knows nothing of backups' states, refs or policies, and never
// imports transitions or gitstate: blobs come in through a BlobOpener, and
// backups' fields through a Manifest. Extract never writes outside the target
// directory and never follows a symbolic link that is already on disk.
package archive
