// The skeleton's ModuleTests.cs and Harness/ModuleFixture.cs use xunit attributes without a using; this makes the
// project compile (added by the engines helper; the lead may move it into the csproj as <Using Include="Xunit" />).
global using Xunit;
