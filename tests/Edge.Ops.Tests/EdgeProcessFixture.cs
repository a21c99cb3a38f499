namespace MoqCluster.Edge.Ops.Tests;

/// <summary>One edge process shared by the endpoint tests of a class; tests use distinct broadcast paths.</summary>
public sealed class EdgeProcessFixture : IAsyncLifetime
{
    private EdgeProcess? _edge;

    internal EdgeProcess Edge => _edge ?? throw new InvalidOperationException("fixture not initialized");

    /// <inheritdoc />
    public async Task InitializeAsync() => _edge = await EdgeProcess.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_edge is not null)
            await _edge.DisposeAsync();
    }
}
