using MoqCluster.Edge;
using MoqCluster.Edge.Http;
using MoqCluster.Edge.Auth;
using MoqCluster.Edge.Auth.Cli;
using MoqCluster.Edge.Relay;
using MoqCluster.Edge.Cluster;
using MoqCluster.Edge.Listeners;
using MoqCluster.Protocol.Transport;

if (args is ["token", ..])
    return TokenCommand.Run(args[1..], Console.Out, Console.Error);

SocketScheduling.PreferInlineCompletions();
var builder = WebApplication.CreateBuilder(args);
SocketScheduling.ConfigureKestrel(builder.WebHost, SocketScheduling.InlineCompletions);
if (builder.Configuration["urls"] is null && builder.Configuration["ASPNETCORE_URLS"] is null)
    builder.WebHost.UseUrls("http://localhost:4443");
RecordBlockPool.UseForKestrel(builder.Services);
builder.Services.Configure<EdgeOptions>(builder.Configuration.GetSection("Relay"));
builder.Services.AddEdgeAuth(builder.Configuration);
builder.Services.AddSingleton<RelayHost>();
builder.AddEdgeOperations();
builder.Services.AddSingleton<EdgeCluster>();
builder.Services.AddHostedService(services => services.GetRequiredService<EdgeCluster>());

var app = builder.Build();
app.UseWebSockets();
app.Use(async (context, next) =>
{
    if (MoqWebSocketAcceptor.IsMoqUpgrade(context))
        await context.RequestServices.GetRequiredService<RelayHost>().HandleWebSocketAsync(context);
    else
        await next(context);
});
app.MapGet("/health", (RelayHost relay) => Results.Ok(new { status = "ok", broadcasts = relay.Origin.Count }));
app.MapEdgeEndpoints();
app.Run();
return 0;
