import Foundation
import Numerics
import Model

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading a file a student controls: its type is checked before it is opened, its size before it is
/// read, and no more than the limit is ever read.
///
/// A FIFO would block `open()` forever, a device (`/dev/zero`) never ends, a sparse file claims gigabytes it
/// does not hold, and a file may grow while it is read: each of these is a one-line error, quickly.
package enum SafeFile {
    /// What a path is, by `stat` (following symlinks, which `ClassFolder` has already kept inside the class).
    package enum Kind: Equatable {
        case regular(size: Int)
        case directory
        case other(String)
        case missing
    }

    /// The kind of `path`, without opening it.
    package static func kind(_ path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular(size: Int(info.st_size))
        case S_IFDIR: return .directory
        case S_IFIFO: return .other("a FIFO (named pipe)")
        case S_IFCHR: return .other("a character device")
        case S_IFBLK: return .other("a block device")
        case S_IFSOCK: return .other("a socket")
        default: return .other("not a regular file")
        }
    }

    /// The error for a path that is not a regular file, or nil when it is one.
    package static func notRegular(_ path: String) -> GraderError? {
        switch kind(path) {
        case .regular: return nil
        case .directory: return GraderError(file: path, "is a folder; expected a file")
        case .missing: return GraderError(file: path, "cannot read the file")
        case .other(let what): return GraderError(file: path, "is \(what), not a regular file; it was not read")
        }
    }

    /// The bytes of the regular file at `path`, at most `limit` of them.
    package static func read(_ path: String, limit: Int = InputLimits.maxFileBytes) throws -> [UInt8] {
        if let problem = notRegular(path) { throw problem }
        guard case .regular(let size) = kind(path), size <= limit else {
            throw GraderError(file: path, "the file is \(sizeOf(path)) bytes; at most \(limit) are accepted")
        }
        // O_NONBLOCK: should the path have been swapped for a FIFO since `stat`, open does not wait for a writer.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw GraderError(file: path, "cannot read the file") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw GraderError(file: path, "changed into something other than a regular file while it was opened; it was not read")
        }
        var bytes = [UInt8](repeating: 0, count: min(size, limit) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard bytes.count <= limit else {
                    throw GraderError(file: path, "the file grew past \(limit) bytes while it was read; at most \(limit) are accepted")
                }
                bytes += [UInt8](repeating: 0, count: min(max(bytes.count, 4096), limit + 1 - bytes.count))
            }
            let n = bytes.withUnsafeMutableBytes { buffer in
                systemRead(fd, buffer.baseAddress.map { $0 + count }, buffer.count - count)
            }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw GraderError(file: path, "cannot read the file") }
            if n == 0 { break }
            count += n
        }
        return Array(bytes.prefix(count))
    }

    /// The size `stat` reports, for messages.
    private static func sizeOf(_ path: String) -> Int {
        if case .regular(let size) = kind(path) { return size }
        return 0
    }
}

/// `read(2)`, under a name the static `SafeFile.read` does not hide.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.read(fd, buffer, count)
    #else
        Darwin.read(fd, buffer, count)
    #endif
}
