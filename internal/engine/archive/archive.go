// Package archive writes files of a node into tar archives: the build outputs nodes share and
// the backups of a data dir. Both need the same care with links, modes and owners.
package archive

import (
	"archive/tar"
	"io"
	"io/fs"
	"os"
)

// Owners says whether an entry keeps the numeric owner of its file.
type Owners bool

const (
	// KeepOwners restores files to the same uids: a backup of this node, for this node.
	KeepOwners Owners = true
	// DropOwners leaves owners to whoever unpacks: the uids of one node mean nothing on another.
	DropOwners Owners = false
)

// AddFile adds the file, directory or symbolic link at p to tw as name, with its mode. A
// directory's name gets its trailing slash here. A file is copied only up to the size it had
// when it was looked at, so that one growing meanwhile cannot overrun its header.
func AddFile(tw *tar.Writer, p, name string, owners Owners) error {
	info, err := os.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	header, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	header.Name = name
	if info.IsDir() {
		header.Name += "/"
	}
	header.Uname, header.Gname = "", "" // names differ between machines; numbers are what is restored
	if owners == DropOwners {
		header.Uid, header.Gid = 0, 0
	}
	if err := tw.WriteHeader(header); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // only read
	_, err = io.CopyN(tw, f, info.Size())
	return err
}
