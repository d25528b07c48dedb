using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace SignalFunctions.OpsConsole;

public sealed class ConsoleFunctions
{
    // The page itself is behind the function key in Azure, as every API it reads.
    [Function("Console")]
    public FileContentHttpResult Console(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "console")] HttpRequest request) =>
        ConsoleApi.GetPage(request.HttpContext);

    // Code and style only, no data: anonymous, so a script tag needs no key.
    [Function("ConsoleFile")]
    public Results<FileContentHttpResult, NotFound> ConsoleFile(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/{file}")] HttpRequest request, string file) =>
        ConsoleApi.GetAsset(file, request.HttpContext);
}
