"""Small builders shared by tests: tiny mazes, tiny models, fixed rollouts."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

TINY_MAZE = {"min_size": 3, "max_size": 5}
"""Small mazes keep env-level tests fast."""


def tiny_train_config(**overrides):
    """A PPO TrainConfig that trains in seconds (4 envs, 16-unit MLP); ``overrides`` set the
    env and whatever else a test varies."""
    from rl_workbench.agents import TrainConfig

    settings = {
        "env_id": "rlwb/MazeCorner-v0",
        "env_kwargs": TINY_MAZE,
        "total_steps": 512,
        "n_envs": 4,
        "n_steps": 64,
        "batch_size": 64,
        "n_epochs": 1,
        "extractor": "mlp",
        "net_arch": (16,),
        "eval_episodes": 8,
        "checkpoint_every": 256,
        "threads": 1,
    }
    return TrainConfig(**(settings | overrides))


def make_tiny_model(
    algorithm: str, env_id: str = "rlwb/Maze-v0", env_kwargs: dict | None = None, seed: int = 0
):
    """An untrained stable-baselines3 model with a 16-unit MLP, for adapter tests."""
    from stable_baselines3 import A2C, DQN, PPO

    from rl_workbench.domains import make_env

    env = make_env(env_id, env_kwargs or TINY_MAZE)
    cls = {"PPO": PPO, "A2C": A2C, "DQN": DQN}[algorithm]
    kwargs = {"learning_starts": 0, "buffer_size": 1000} if algorithm == "DQN" else {}
    return cls(
        "MlpPolicy", env, policy_kwargs={"net_arch": [16]}, seed=seed, device="cpu", **kwargs
    )


def rollout(env: gym.Env, seed: int, steps: int = 50) -> list[np.ndarray]:
    """Observations of a fixed action sequence from a seeded reset."""
    obs, _ = env.reset(seed=seed)
    out = [obs]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(4)))
        out.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()
            out.append(obs)
    return out


class CheeseCompassAgent:
    """A scripted, differentiable agent: it heads straight for the cheese as the crow flies.

    Positions are soft (channel-weighted coordinates), so gradients flow to the observation.
    Moving the cheese to the other side of the mouse always flips its action.
    """

    def __new__(cls, world: int = 5):
        import torch

        from rl_workbench.agents import Agent

        class _Compass(Agent):
            def __init__(self) -> None:
                import gymnasium as gym

                self.observation_space = gym.spaces.Box(0.0, 1.0, (6, world, world), np.float32)
                self.action_names = ("up", "down", "left", "right")
                rows, cols = torch.meshgrid(torch.arange(world), torch.arange(world), indexing="ij")
                self._coords = torch.stack([rows, cols]).float()  # [2, W, W]
                self._dirs = torch.tensor([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])

            def _pos(self, channel: torch.Tensor) -> torch.Tensor:
                weights = channel / channel.sum(dim=(1, 2), keepdim=True).clamp_min(1e-6)
                return (weights[:, None] * self._coords).sum(dim=(2, 3))  # [B, 2]

            def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
                delta = self._pos(obs[:, 3].clamp_min(0)) - self._pos(obs[:, 2].clamp_min(0))
                return 3.0 * delta @ self._dirs.T

            def value(self, obs: torch.Tensor) -> torch.Tensor:
                delta = self._pos(obs[:, 3].clamp_min(0)) - self._pos(obs[:, 2].clamp_min(0))
                return -delta.abs().sum(dim=1)

            @property
            def has_value(self) -> bool:
                return True

        return _Compass()


class BrightSpotAgent:
    """A scripted, differentiable Atari agent: FIRE when a 6x6 patch is lit, NOOP otherwise.

    Acts on [B, 84, 84, 4] stacks (0-255) like any SB3 Atari agent; the patch sits at rows and
    columns 40-45 of every frame, so a counterfactual must light pixels there and nowhere else
    needs to change.
    """

    PATCH = (slice(40, 46), slice(40, 46))

    def __new__(cls):
        import gymnasium as gym
        import torch

        from rl_workbench.agents import Agent

        patch = cls.PATCH

        class _Bright(Agent):
            def __init__(self) -> None:
                self.observation_space = gym.spaces.Box(0, 255, (84, 84, 4), np.uint8)
                self.action_names = ("NOOP", "FIRE")

            def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
                lit = obs[:, patch[0], patch[1], :].mean(dim=(1, 2, 3)) / 255.0
                return torch.stack([torch.full_like(lit, 1.0), 20.0 * lit], dim=1)

        return _Bright()


def dark_stack(seed: int = 0) -> np.ndarray:
    """A black stack with a few grey 'sprites' away from BrightSpotAgent's patch."""
    rng = np.random.default_rng(seed)
    obs = np.zeros((84, 84, 4), dtype=np.uint8)
    for _ in range(6):
        r, c = int(rng.integers(0, 30)), int(rng.integers(0, 78))
        obs[r : r + 4, c : c + 6, :] = 142
    return obs


class ScriptedMazeAgent:
    """A scripted maze agent that walks a shortest path to a target it reads from the observation.

    ``target="cheese"``: the cheese channel; ``"corner"``: the maze's top-right cell;
    ``"sign"``: the sign channel (the cheese when there is no sign). ``noise`` spreads that
    much probability evenly over the other moves, so the policy is a proper distribution.
    """

    def __new__(cls, target: str, world: int = 7, noise: float = 0.0):
        import gymnasium as gym
        import torch

        from rl_workbench.agents import Agent
        from rl_workbench.envs.maze.state import MOVES, bfs_distances

        class _Scripted(Agent):
            def __init__(self) -> None:
                self.observation_space = gym.spaces.Box(0.0, 1.0, (6, world, world), np.float32)
                self.action_names = ("up", "down", "left", "right")

            def _goal(self, o: np.ndarray, walls: np.ndarray) -> tuple[int, int]:
                if target == "corner":
                    rows, cols = np.nonzero(o[5] < 0.5)  # inside the maze
                    return int(rows.min()), int(cols.max())
                channel = o[4] if target == "sign" and o[4].any() else o[3]
                if not (channel > 0.5).any():  # nothing to head for (e.g. blinded): stay put
                    r, c = np.argwhere(o[2] > 0.5)[0]
                else:
                    r, c = np.argwhere(channel > 0.5)[0]
                return int(r), int(c)

            def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
                out = []
                for o in obs.detach().cpu().numpy():
                    walls = (o[0] > 0.5) | (o[5] > 0.5)  # padding is not walkable
                    mouse = tuple(int(v) for v in np.argwhere(o[2] > 0.5)[0])
                    dist = bfs_distances(walls, self._goal(o, walls))
                    probs = np.full(4, noise / 3)
                    best = 0
                    for a, (dr, dc) in enumerate(MOVES):
                        nxt = (mouse[0] + dr, mouse[1] + dc)
                        inside = 0 <= nxt[0] < world and 0 <= nxt[1] < world
                        if inside and not walls[nxt] and 0 <= dist[nxt] < dist[mouse]:
                            best = a
                    probs[best] = 1.0 - noise if noise else 1.0
                    out.append(np.log(np.clip(probs, 1e-6, 1.0)))
                return torch.tensor(np.array(out), dtype=torch.float32)

        return _Scripted()


# A T-junction: from the mouse (bottom-left) the way up leads to (2, 2), where the path to the
# cheese turns right and the path to the top-right corner turns up.
def t_maze():
    """The shared T-junction level (built on call: tests import helpers before rl_workbench)."""
    from rl_workbench.envs.maze import MazeState

    return MazeState(
        walls=np.array(
            [
                [1, 1, 0, 0, 0],
                [1, 1, 0, 1, 1],
                [0, 0, 0, 0, 0],
                [0, 1, 1, 1, 1],
                [0, 1, 1, 1, 1],
            ],
            dtype=bool,
        ),
        maze_size=5,
        mouse=(4, 0),
        cheese=(2, 4),
    )


class ScriptedRoomAgent:
    """A scripted goal-room agent that takes a shortest way (turns counted) to a landmark it reads
    from the full-grid observation: ``"goal"``, ``"corner"`` (the bottom-right inner square) or
    ``"ball"`` (a square beside the ball). ``noise`` spreads that much probability evenly over
    the other two movement actions."""

    def __new__(cls, target: str, size: int = 8, noise: float = 0.0):
        import gymnasium as gym
        import torch

        from rl_workbench.agents import Agent
        from rl_workbench.domains import action_names, make_env
        from rl_workbench.domains import minigrid_behaviour as rooms
        from rl_workbench.domains.minigrid import MiniGridState

        names = action_names(make_env("rlwb/MiniGrid-GoalRoom-v0", {"size": size}))

        class _Scripted(Agent):
            def __init__(self) -> None:
                self.observation_space = gym.spaces.Box(0, 255, (size, size, 3), np.uint8)
                self.action_names = names

            def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
                out = []
                for o in obs.detach().cpu().numpy().astype(np.uint8):
                    x, y = (int(v) for v in np.argwhere(o[:, :, 0] == 10)[0])  # minigrid's agent
                    direction = int(o[x, y, 2])
                    grid = o.copy()
                    grid[x, y] = (1, 0, 0)
                    state = MiniGridState.from_array(grid, (x, y), direction)
                    cells = rooms.landmark_cells(state, target)
                    moves = rooms.best_actions(
                        state,
                        rooms.pose_of(state),
                        rooms.steps_to_go(state, cells),
                        rooms.standable(state),
                    )
                    probs = np.zeros(len(names))
                    probs[:3] = noise / 2
                    probs[moves[0] if moves else rooms.FORWARD] = 1.0 - noise if noise else 1.0
                    out.append(np.log(np.clip(probs, 1e-6, 1.0)))
                return torch.tensor(np.array(out), dtype=torch.float32)

        return _Scripted()
