// Package image builds and reads OCI images without a registry or a daemon.
//
// Builder makes a single-layer image from static binaries, files and
// directories (like ko does) and writes it as an OCI image layout tarball,
// which runtime.ImageService.ImportImage and `ctr images import` accept. The
// layer is an uncompressed tar with fixed owners and times, so the same
// input gives the same digests. Paths must be absolute and may not contain
// ".."; bad input fails with a *runtime.FieldError. FromGoPackage builds a
// Go main package statically (BuildGo: CGO_ENABLED=0, GOOS=linux) into such
// an image, for tests and demos.
//
// ReadArchive reads such a tarball back (any OCI layout with named
// manifests, tar or tar+gzip layers, whiteouts applied), checking every blob
// against its digest; it is what the fake runtime imports images with.
package image
