/// Element types of values: f32 for activations, i32 for token ids.
public enum DType: String, Sendable, CaseIterable {
    case f32
    case i32
}
