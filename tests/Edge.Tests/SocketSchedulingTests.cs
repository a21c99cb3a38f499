using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MoqCluster.Edge.Tests;

public class SocketSchedulingTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Kestrel_pipes_follow_the_processes_choice_of_inline_completions(bool inline)
    {
        // Kestrel leaves UnsafePreferInlineScheduling off whatever the runtime variable says; the edge passes it on.
        var builder = WebApplication.CreateSlimBuilder();
        SocketScheduling.ConfigureKestrel(builder.WebHost, inline);
        using var app = builder.Build();
        Assert.Equal(inline, app.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
    }
}
