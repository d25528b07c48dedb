using System.Text.Json;

namespace SignalFunctions.DevHost.Worker;

/// <summary>
/// worker.config.json, which the worker SDK writes beside the app: how the host starts the worker
/// (for dotnet-isolated: `dotnet App.dll`).
/// </summary>
public sealed record WorkerConfig(string Language, string ExecutablePath, string WorkerPath)
{
    public const string FileName = "worker.config.json";

    public static WorkerConfig Read(string scriptRoot)
    {
        var path = Path.Combine(scriptRoot, FileName);
        if (!File.Exists(path))
        {
            throw new DevHostException($"{path} not found: --script-root must be the worker's build or publish output (dotnet build writes {FileName}).");
        }
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        if (!document.RootElement.TryGetProperty("description", out var description))
        {
            throw new DevHostException($"{path} has no \"description\".");
        }
        string Text(string name) => description.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new DevHostException($"{path}: description.{name} is missing.");
        return new WorkerConfig(Text("language"), Text("defaultExecutablePath"), Text("defaultWorkerPath"));
    }
}
