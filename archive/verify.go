package archive

import (
	"context"
	"io"
)

// Verify reads the whole archive at path with the package's shared Archiver
// and checks everything (see Archiver.Verify).
func Verify(path string) (Manifest, error) {
	return defaultArchiver.Verify(context.Background(), path)
}

// Verify reads the whole archive at path and checks it: the manifest's bounds
// and paths, that the tar holds exactly the manifest's files in its order,
// every file's size and blob ID, the end of the archive, and the zstd
// checksum. It returns the manifest. Damage is reported as a CorruptError
// naming the archive and, when it lies in a file, the file.
func (a *Archiver) Verify(ctx context.Context, path string) (Manifest, error) {
	return a.verify(ctx, path, nil)
}

// verify is Verify, counting the files' bytes on prog.
func (a *Archiver) verify(ctx context.Context, path string, prog *progress) (Manifest, error) {
	r, err := a.Open(path)
	if err != nil {
		return Manifest{}, err
	}
	defer r.Close()
	buf := make([]byte, copyBuffer)
	for {
		if err := ctx.Err(); err != nil {
			return Manifest{}, err
		}
		_, err := r.Next()
		if err == io.EOF {
			return r.Manifest(), nil
		}
		if err != nil {
			return Manifest{}, err
		}
		for {
			n, err := r.Read(buf)
			prog.add(int64(n))
			if err == io.EOF {
				break
			}
			if err != nil {
				return Manifest{}, err
			}
			if err := ctx.Err(); err != nil {
				return Manifest{}, err
			}
		}
	}
}
