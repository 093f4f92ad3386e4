/// A run that cannot go on. `input` problems are the user's data (a file
/// that is corrupt or does not fit the spec): exit 1; `io` problems are the
/// file system's (a file that cannot be read or written): exit 2.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case input, io }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// An input problem.
    public init(_ message: String) { self.init(.input, message) }

    public var description: String { message }
}
