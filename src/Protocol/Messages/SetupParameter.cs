namespace MoqCluster.Protocol.Messages;

/// <summary>A lite-05 SETUP parameter this library does not interpret, preserved verbatim.</summary>
/// <param name="Id">The parameter id.</param>
/// <param name="Value">The raw value bytes (inside the parameter's length).</param>
public readonly record struct SetupParameter(ulong Id, byte[] Value)
{
    /// <inheritdoc />
    public bool Equals(SetupParameter other) => Id == other.Id && (Value ?? []).AsSpan().SequenceEqual(other.Value ?? []);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Id, Value?.Length);
}
