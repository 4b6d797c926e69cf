"""The MCP Python SDK's own stdio client (not our code): starts a client-config entry as given
in a JSON file (command, args, env, cwd), lists the tools, calls one, prints JSON on stdout."""
import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


async def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    params = StdioServerParameters(command=spec["command"], args=spec["args"], env=spec["env"], cwd=spec.get("cwd", "/"))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await asyncio.wait_for(session.initialize(), 60)
            tools = await asyncio.wait_for(session.list_tools(), 60)
            result = await asyncio.wait_for(session.call_tool(spec["tool"], {}), 60)
            texts = [c.text for c in getattr(result, "content", []) if getattr(c, "type", "") == "text"]
            print(json.dumps({"tools": [t.name for t in tools.tools], "text": "".join(texts), "isError": bool(getattr(result, "is_error", getattr(result, "isError", False)))}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
