import StrataDriver
import Testing

/// Files generated from the op catalog and the diagnostic tables must match
/// what is committed, so Grammar/ and docs/ cannot drift from the code.
@Suite struct GeneratedFilesTests {
    @Test func jsonSchema() {
        expectGolden(SpecSchema.document().pretty() + "\n", "Grammar/strata-spec.schema.json")
    }

    @Test func opReference() {
        expectGolden(ReferenceDocs.opReference(), "docs/ops.md")
    }

    @Test func diagnosticReference() {
        expectGolden(ReferenceDocs.diagnosticReference(), "docs/diagnostics.md")
    }
}
