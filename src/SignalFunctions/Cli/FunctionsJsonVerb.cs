using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using SignalFunctions.Hosting;

namespace SignalFunctions.Cli;

/// <summary>`functions-json --out DIR`: one folder per function with its function.json, from the function table.</summary>
public static class FunctionsJsonVerb
{
    public static Command Command()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write the function folders into (the package root).", Required = true };
        var command = new Command("functions-json", "Write the function.json of every function (used by ./package.sh).") { output };
        command.SetAction(parsed =>
        {
            var root = parsed.GetValue(output)!;
            foreach (var function in Functions.All)
            {
                var folder = Directory.CreateDirectory(Path.Combine(root.FullName, function.Name));
                File.WriteAllText(Path.Combine(folder.FullName, "function.json"), Render(function).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            }
            Console.WriteLine($"Wrote {Functions.All.Count} functions to {root.FullName}");
            return 0;
        });
        return command;
    }

    public static JsonObject Render(FunctionDefinition function) => function switch
    {
        HttpFunction http => new JsonObject
        {
            ["bindings"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "httpTrigger",
                    ["direction"] = "in",
                    ["name"] = "req",
                    ["authLevel"] = http.AuthLevel.ToString().ToLowerInvariant(),
                    // Browsers preflight cross-origin JSON posts; the host must forward OPTIONS to us.
                    ["methods"] = new JsonArray([.. http.Methods.Append(http.Audience is Audience.Operations ? null : "options")
                        .OfType<string>().Select(m => (JsonNode)JsonValue.Create(m))]),
                    ["route"] = http.Route,
                },
                new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" }),
        },
        TimerFunction timer => new JsonObject
        {
            ["bindings"] = new JsonArray(new JsonObject
            {
                ["type"] = "timerTrigger",
                ["direction"] = "in",
                ["name"] = "timer",
                ["schedule"] = $"%{timer.ScheduleSetting}%",
                // runOnStartup would also fire on every scale-out.
                ["runOnStartup"] = false,
                ["useMonitor"] = true,
            }),
        },
        _ => throw new ArgumentOutOfRangeException(nameof(function)),
    };
}
